/**
 * What the client makes of a receipt.
 * [K-RECEIPT-CHECK] bytes and kind must equal what was sent, and on a plain connection
 * sha256 too, else the item fails with INTEGRITY_MISMATCH (exit 6) and the connection
 * goes on. [K-RECEIPT-SESSION] In an encrypted session the client computes no digest: the
 * receipt's sha256 is taken as the digest of what was stored.
 * A receipt that is not a receipt object is MALFORMED_MESSAGE and fails the connection.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
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
import { prepareTree } from "../../src/transfer/client/prepared-item.js";
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

/** Answers item n with a receipt that differs from a faithful one by `changes[n - 1]`. */
function wrongReceipts(changes: readonly Partial<ReceiptBody>[]): (peer: Peer) => void {
  return answering(
    changes.map((change) => (peer: Peer, item: SeenItem) => {
      peer.receiptBody(item, { ...faithful(`item-${item.id}.txt`), ...change });
    }),
  );
}

const OTHER_SHA256 = sha256(Buffer.from("other"));
/** Makes a `kind: "dict"` receipt well formed [M-RECEIPT-STORED], so only the kind is wrong. */
const STORED_SHA256 = sha256(Buffer.from("stored"));

describe("[K-RECEIPT-CHECK] a receipt must match what was sent", () => {
  it("[K-RECEIPT-CHECK] a wrong bytes, sha256 or kind fails that item alone (plain)", async () => {
    const key = randomBytes(32);
    const port = await fakeServer(
      wrongReceipts([
        { bytes: DATA.length + 1 },
        { sha256: OTHER_SHA256 },
        { kind: "dict", storedSha256: STORED_SHA256 },
        {},
      ]),
      { masterKey: key },
    );
    expect(await sendEach(port, key, false, 4)).toEqual([
      "INTEGRITY_MISMATCH",
      "INTEGRITY_MISMATCH",
      "INTEGRITY_MISMATCH",
      "stored",
    ]);
  });

  it("[K-RECEIPT-CHECK] a wrong bytes or kind fails that item alone (encrypted)", async () => {
    const key = randomBytes(32);
    const port = await fakeServer(
      wrongReceipts([
        { bytes: DATA.length + 1 },
        { kind: "dict", storedSha256: STORED_SHA256 },
        { bytes: 0 },
        {},
      ]),
      { masterKey: key },
    );
    expect(await sendEach(port, key, true, 4)).toEqual([
      "INTEGRITY_MISMATCH",
      "INTEGRITY_MISMATCH",
      "INTEGRITY_MISMATCH",
      "stored",
    ]);
  });
});

describe("[K-RECEIPT-SESSION] the digest in an encrypted session is the server's", () => {
  it("[K-RECEIPT-SESSION] takes the authenticated receipt's sha256 without hashing what it sent", async () => {
    const key = randomBytes(32);
    // A server that reports another digest than that of the data: only a client that
    // hashed what it sent could tell, and in an encrypted session it does not.
    const port = await fakeServer(wrongReceipts([{ sha256: OTHER_SHA256 }, {}]), {
      masterKey: key,
    });
    const client = await GbClient.connect({ host: "127.0.0.1", port, encryption: { key } });
    const sends = [1, 2].map((index) =>
      client.sendStream(Readable.from([DATA]), {
        name: `item-${index}.txt`,
        size: DATA.length,
      }),
    );
    const [first, second] = await withTimeout(Promise.all(sends), WAIT_MS, "both items");
    await withTimeout(client.close(), WAIT_MS, "close()");
    expect(first).toMatchObject({ encrypted: true, bytes: DATA.length, sha256: OTHER_SHA256 });
    expect(first?.receipt.sha256).toBe(OTHER_SHA256);
    expect(second).toMatchObject({ encrypted: true, sha256: sha256(DATA) });
  });

  it("[K-RECEIPT-SESSION] a dictionary's digest is the server's too; a plain one is checked", async () => {
    const key = randomBytes(32);
    const answerDict = (peer: Peer, item: SeenItem): void => {
      peer.receiptBody(item, {
        kind: "dict",
        name: item.meta.name,
        bytes: item.meta.size ?? 0,
        sha256: OTHER_SHA256,
        savedAs: null,
      });
    };
    const outcomes: unknown[] = [];
    for (const encrypt of [true, false]) {
      const port = await fakeServer(answering([answerDict]), { masterKey: key });
      const client = await GbClient.connect({
        host: "127.0.0.1",
        port,
        ...(encrypt ? { encryption: { key } } : {}),
      });
      const sent = client.sendDict({ a: 1 }, { format: "json" });
      outcomes.push(
        await withTimeout(
          sent.then(
            (item) => item.sha256,
            (error: unknown) => (error as { code: unknown }).code,
          ),
          WAIT_MS,
          "the dictionary",
        ),
      );
      await withTimeout(client.close(), WAIT_MS, "close()");
    }
    expect(outcomes).toEqual([OTHER_SHA256, "INTEGRITY_MISMATCH"]);
  });
  it("[K-RECEIPT-SESSION] a tree's small file (read whole) and directory take the server's digest; a plain one is checked", async () => {
    const key = randomBytes(32);
    const top = path.join(await tempDir(), "docs");
    await mkdir(top);
    await writeFile(path.join(top, "small.txt"), DATA);
    const tree = await prepareTree(top);
    // Every entry answered with a digest that is no entry's: only a hashing client sees it.
    const answerWrong = (peer: Peer, item: SeenItem): void => {
      peer.receiptBody(item, {
        kind: item.meta.kind === "files" ? "file" : item.meta.kind,
        name: item.meta.name,
        bytes: item.meta.size ?? 0,
        sha256: OTHER_SHA256,
        savedAs: null,
      });
    };
    const outcomes: unknown[][] = [];
    for (const encrypt of [true, false]) {
      const port = await fakeServer(answering([answerWrong, answerWrong]), { masterKey: key });
      const client = await GbClient.connect({
        host: "127.0.0.1",
        port,
        ...(encrypt ? { encryption: { key } } : {}),
      });
      const sends = tree.items.map((item) =>
        client.send(item).then(
          (sent) => [sent.kind, sent.sha256],
          (error: unknown) => [item.meta.kind, (error as { code: unknown }).code],
        ),
      );
      outcomes.push(await withTimeout(Promise.all(sends), WAIT_MS, "the tree's entries"));
      await withTimeout(client.close(), WAIT_MS, "close()");
    }
    expect(outcomes).toEqual([
      [
        ["file", OTHER_SHA256],
        ["dir", OTHER_SHA256],
      ],
      [
        ["file", "INTEGRITY_MISMATCH"],
        ["dir", "INTEGRITY_MISMATCH"],
      ],
    ]);
  });
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

  it("[K-RECEIPT-CHECK] gb-client --encrypt exits 6 for a receipt whose byte count does not match", async () => {
    const keyFile = path.join(await tempDir("gb-receipt-"), "key");
    const key = await createKeyFile(keyFile);
    const port = await fakeServer(
      answering([
        (peer, item) => {
          peer.receiptBody(item, { ...faithful("notes.txt"), bytes: 1 });
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
