/**
 * What the client makes of a receipt.
 * [K-RECEIPT-CHECK] bytes, sha256 and kind must equal what was sent, else the item fails
 * with INTEGRITY_MISMATCH (exit 6) and the connection goes on.
 * A receipt that is not a receipt object is MALFORMED_MESSAGE and fails the connection.
 * Both in plain connections and in encrypted sessions.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { createKeyFile } from "../../src/crypto/key-file.js";
import { encodeFrame } from "../../src/framing/frame.js";
import { FrameType } from "../../src/protocol/constants.js";
import type { ReceiptBody } from "../../src/protocol/messages.js";
import { GbClient } from "../../src/transfer/client.js";
import { fakeIo, removeTempDirs, tempDir, testEnv, withTimeout } from "../cli/fake-io.js";
import { SAMPLE_TEXT } from "../support/samples.js";
import { sha256 } from "../support/sha256.js";
import {
  closeFakeServers,
  fakeServer,
  WAIT_MS,
  type Peer,
  type SeenItem,
} from "../support/fake-server.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

const DATA = Buffer.from("some data the server will vouch for\n");

/** The receipt a faithful server would send for an item carrying {@link DATA}. */
function faithful(name: string): ReceiptBody {
  return { kind: "file", name, bytes: DATA.length, sha256: sha256(DATA), savedAs: name };
}

/** Answers the items in order with `answers` (one per item), each given the item. */
function answering(
  answers: readonly ((peer: Peer, item: SeenItem) => void)[],
): (peer: Peer) => void {
  return (peer) => {
    peer.greet();
    peer.onItemEnd = (item) => {
      answers[item.id - 1]?.(peer, item);
    };
  };
}

/** Sends one item carrying {@link DATA} per answer, encrypted or not; returns each outcome's code. */
async function sendEach(
  port: number,
  key: Buffer,
  encrypt: boolean,
  count: number,
): Promise<unknown[]> {
  const client = await GbClient.connect({
    host: "127.0.0.1",
    port,
    ...(encrypt ? { encryption: { key } } : {}),
  });
  const sends = Array.from({ length: count }, (_, index) =>
    client.sendStream(Readable.from([DATA]), {
      name: `item-${index + 1}.txt`,
      size: DATA.length,
      encrypt,
    }),
  );
  const results = await withTimeout(Promise.allSettled(sends), WAIT_MS, "every item");
  await withTimeout(client.close(), WAIT_MS, "close()");
  return results.map((result) =>
    result.status === "fulfilled" ? "stored" : (result.reason as { code: unknown }).code,
  );
}

describe("[K-RECEIPT-CHECK] a receipt must match what was sent", () => {
  for (const encrypt of [false, true]) {
    it(`[K-RECEIPT-CHECK] a wrong bytes, sha256 or kind fails that item alone (${encrypt ? "encrypted" : "plain"})`, async () => {
      const key = randomBytes(32);
      const wrong = (change: Partial<ReceiptBody>) => (peer: Peer, item: SeenItem) => {
        peer.receiptBody(item, { ...faithful(`item-${item.id}.txt`), ...change });
      };
      const port = await fakeServer(
        answering([
          wrong({ bytes: DATA.length + 1 }),
          wrong({ sha256: sha256(Buffer.from("other")) }),
          // A well-formed dictionary receipt [M-RECEIPT-STORED], for a file.
          wrong({ kind: "dict", storedSha256: sha256(Buffer.from("stored")) }),
          wrong({}),
        ]),
        { masterKey: key },
      );
      expect(await sendEach(port, key, encrypt, 4)).toEqual([
        "INTEGRITY_MISMATCH",
        "INTEGRITY_MISMATCH",
        "INTEGRITY_MISMATCH",
        "stored",
      ]);
    });
  }
});

describe("receipts in an encrypted session", () => {
  it("[M-RECEIPT] a receipt that is not a receipt object fails the connection: MALFORMED_MESSAGE", async () => {
    const key = randomBytes(32);
    const port = await fakeServer(
      answering([
        (peer) => {
          peer.send(
            encodeFrame(FrameType.RECEIPT, Buffer.from('{"id":1,"receipt":{"kind":"file"}}')),
          );
        },
      ]),
      { masterKey: key },
    );
    expect(await sendEach(port, key, true, 2)).toEqual(["MALFORMED_MESSAGE", "MALFORMED_MESSAGE"]);
  });

  it("[K-RECEIPT-CHECK] gb-client --encrypt exits 6 for a receipt that does not match", async () => {
    const keyFile = path.join(await tempDir("gb-receipt-"), "key");
    const key = await createKeyFile(keyFile);
    const port = await fakeServer(
      answering([
        (peer, item) => {
          peer.receiptBody(item, { ...faithful("notes.txt"), sha256: sha256(Buffer.from("x")) });
        },
      ]),
      { masterKey: key },
    );
    const fake = fakeIo(await testEnv());
    const code = await withTimeout(
      runClient(
        [
          "--port",
          String(port),
          "--encrypt",
          "--key-file",
          keyFile,
          "--json",
          "--file",
          SAMPLE_TEXT,
        ],
        fake.io,
      ),
      WAIT_MS,
      "runClient",
    );
    expect(code).toBe(ExitCode.INTEGRITY);
    expect(fake.stdout.json).toEqual([
      expect.objectContaining({ event: "session", encrypted: true }),
      expect.objectContaining({ event: "failed", id: 1, code: "INTEGRITY_MISMATCH" }),
    ]);
  });
});
