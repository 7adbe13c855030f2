/**
 * What the client makes of a receipt.
 * [K-RECEIPT-CHECK] bytes, sha256 and kind must equal what was sent, else the item fails
 * with INTEGRITY_MISMATCH (exit 6) and the connection goes on.
 * [K-SEALED-RECEIPT] a sealed receipt that fails authentication fails its item with
 * INTEGRITY_MISMATCH (exit 6); a receipt sealed, or not, unlike its item, or an authentic
 * sealed body that is not a receipt, is MALFORMED_MESSAGE and fails the connection.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { createKeyFile } from "../../src/crypto/key-file.js";
import { sealOnce } from "../../src/crypto/seal-once.js";
import type { ReceiptBody } from "../../src/protocol/messages.js";
import { GbClient } from "../../src/transfer/client.js";
import { fakeIo, removeTempDirs, tempDir, testEnv, withTimeout } from "../cli/fake-io.js";
import { SAMPLE_TEXT } from "../support/samples.js";
import { sha256 } from "../support/sha256.js";
import { WAIT_MS } from "../support/fake-server.js";
import { closeKeyedServers, keyedServer, type KeyedItem, type KeyedPeer } from "./keyed-server.js";

afterEach(async () => {
  await closeKeyedServers();
  await removeTempDirs();
});

const DATA = Buffer.from("some data the server will vouch for\n");

/** The receipt a faithful server would send for an item carrying {@link DATA}. */
function faithful(name: string): ReceiptBody {
  return { kind: "file", name, bytes: DATA.length, sha256: sha256(DATA), savedAs: name };
}

/** Answers the items in order with `answers` (one per item), each given the item. */
function answering(
  answers: readonly ((peer: KeyedPeer, item: KeyedItem) => void)[],
): (peer: KeyedPeer) => void {
  return (peer) => {
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
  const client = await GbClient.connect({ host: "127.0.0.1", port, encryption: { key } });
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
    it(`[K-RECEIPT-CHECK] a wrong bytes, sha256 or kind fails that item alone (${encrypt ? "sealed" : "plaintext"})`, async () => {
      const key = randomBytes(32);
      const wrong = (change: Partial<ReceiptBody>) => (peer: KeyedPeer, item: KeyedItem) => {
        peer.receipt(item, { ...faithful(`item-${item.id}.txt`), ...change }, encrypt);
      };
      const port = await keyedServer(
        key,
        answering([
          wrong({ bytes: DATA.length + 1 }),
          wrong({ sha256: sha256(Buffer.from("other")) }),
          wrong({ kind: "dict" }),
          wrong({}),
        ]),
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

describe("[K-SEALED-RECEIPT] sealed receipts", () => {
  it("[K-SEALED-RECEIPT] one that fails authentication fails its item with INTEGRITY_MISMATCH; the connection goes on", async () => {
    const key = randomBytes(32);
    const port = await keyedServer(
      key,
      answering([
        (peer, item) => {
          const sealed = sealOnce(
            item.keys!.receiptKey,
            Buffer.from(JSON.stringify(faithful("x"))),
          );
          sealed[0]! ^= 0x01;
          peer.sealedBytes(item, sealed);
        },
        (peer, item) => {
          peer.receipt(item, faithful("item-2.txt"), true);
        },
      ]),
    );
    const client = await GbClient.connect({ host: "127.0.0.1", port, encryption: { key } });
    const options = { size: DATA.length, encrypt: true };
    const first = client.sendStream(Readable.from([DATA]), {
      ...options,
      name: "item-1.txt",
    });
    const second = client.sendStream(Readable.from([DATA]), {
      ...options,
      name: "item-2.txt",
    });
    await expect(withTimeout(first, WAIT_MS, "item 1")).rejects.toMatchObject({
      code: "INTEGRITY_MISMATCH",
      remote: false,
      itemId: 1,
    });
    await expect(withTimeout(second, WAIT_MS, "item 2")).resolves.toMatchObject({
      name: "item-2.txt",
      encrypted: true,
    });
    await withTimeout(client.close(), WAIT_MS, "close()");
  });

  it("[K-SEALED-RECEIPT] a sealed receipt for a plaintext item fails the connection: MALFORMED_MESSAGE", async () => {
    const key = randomBytes(32);
    const port = await keyedServer(
      key,
      answering([
        (peer, item) => {
          peer.sealedBytes(item, sealOnce(randomBytes(32), Buffer.from("{}")));
        },
      ]),
    );
    expect(await sendEach(port, key, false, 2)).toEqual(["MALFORMED_MESSAGE", "MALFORMED_MESSAGE"]);
  });

  it("[K-SEALED-RECEIPT] an unsealed receipt for an encrypted item fails the connection: MALFORMED_MESSAGE", async () => {
    const key = randomBytes(32);
    const port = await keyedServer(
      key,
      answering([
        (peer, item) => {
          peer.receipt(item, faithful("item-1.txt"), false);
        },
      ]),
    );
    expect(await sendEach(port, key, true, 2)).toEqual(["MALFORMED_MESSAGE", "MALFORMED_MESSAGE"]);
  });

  it("[K-SEALED-RECEIPT] an authentic sealed body that is not a receipt fails the connection: MALFORMED_MESSAGE", async () => {
    const key = randomBytes(32);
    const port = await keyedServer(
      key,
      answering([
        (peer, item) => {
          peer.sealedBytes(item, sealOnce(item.keys!.receiptKey, Buffer.from('{"kind":"file"}')));
        },
      ]),
    );
    expect(await sendEach(port, key, true, 2)).toEqual(["MALFORMED_MESSAGE", "MALFORMED_MESSAGE"]);
  });

  it("[K-SEALED-RECEIPT] gb-client exits 6 for a sealed receipt that fails authentication", async () => {
    const keyFile = path.join(await tempDir("gb-sealed-"), "key");
    const key = await createKeyFile(keyFile);
    const port = await keyedServer(
      key,
      answering([
        (peer, item) => {
          peer.sealedBytes(item, sealOnce(randomBytes(32), Buffer.from("{}")));
        },
      ]),
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
      expect.objectContaining({ event: "failed", id: 1, code: "INTEGRITY_MISMATCH" }),
    ]);
  });
});
