/**
 * [T-BATCH] [T-BATCH-RECEIPT] What the client makes of a batch and of its receipt: each
 * file settled by its own answer, checked as its own receipt would be
 * [K-RECEIPT-CHECK]; a batch answered wrongly as a whole fails every file; a file that
 * cannot be read when the batch goes out fails alone and is left out of it.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame } from "../../src/framing/frame.js";
import { FrameType } from "../../src/protocol/constants.js";
import {
  batchReceiptText,
  receiptText,
  type FileFailure,
  type ReceiptBody,
} from "../../src/protocol/messages.js";
import { GbClient } from "../../src/transfer/client.js";
import { isBatchable, type BatchableFile } from "../../src/transfer/client/batch-sender.js";
import { prepareTree } from "../../src/transfer/client/prepared-item.js";
import { removeTempDirs, tempDir, withTimeout } from "../cli/fake-io.js";
import { sha256 } from "../support/sha256.js";
import { closeFakeServers, fakeServer, WAIT_MS, type SeenItem } from "../support/fake-server.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

const CONTENTS = [Buffer.from("first file\n"), Buffer.from("second\n"), Buffer.from("3rd\n")];

/** A tree `top` holding a.txt, b.txt, c.txt; returns its files, ready for a batch. */
async function threeFiles(): Promise<{ root: string; files: BatchableFile[] }> {
  const root = path.join(await tempDir(), "top");
  await mkdir(root);
  for (const [index, data] of CONTENTS.entries()) {
    await writeFile(path.join(root, `${"abc"[index] ?? "x"}.txt`), data);
  }
  const tree = await prepareTree(root);
  return { root, files: tree.items.filter(isBatchable) };
}

/** The receipt a faithful server would give file `index` of the batch. */
function faithful(index: number): ReceiptBody {
  const name = `${"abc"[index] ?? "x"}.txt`;
  const data = CONTENTS[index] ?? Buffer.alloc(0);
  return { kind: "file", name, bytes: data.length, sha256: sha256(data), savedAs: `top/${name}` };
}

/** A server that answers each batch with `answer(item)` as the RECEIPT's payload. */
function answeringBatches(answer: (item: SeenItem) => string, key: Buffer): Promise<number> {
  return fakeServer(
    (peer) => {
      peer.greet();
      peer.onItemEnd = (item) => {
        peer.send(encodeFrame(FrameType.RECEIPT, Buffer.from(answer(item))));
      };
    },
    { masterKey: key },
  );
}

function batchAnswer(item: SeenItem, files: readonly (ReceiptBody | FileFailure)[]): string {
  const bytes = item.frames.reduce((sum, frame) => sum + frame.payload.length, 0);
  return batchReceiptText(item.id, {
    kind: "files",
    name: item.meta.name,
    bytes,
    savedAs: "top",
    files,
  });
}

/** Sends `files` as one batch; resolves with each file's outcome: "stored" or its code. */
async function sendBatch(
  port: number,
  key: Buffer,
  encrypt: boolean,
  files: readonly BatchableFile[],
): Promise<unknown[]> {
  const client = await GbClient.connect({
    host: "127.0.0.1",
    port,
    ...(encrypt ? { encryption: { key } } : {}),
  });
  const sends = client.sendBatch(
    files.map((item) => ({ item })),
    { encrypt },
  );
  const results = await withTimeout(Promise.allSettled(sends), WAIT_MS, "every file");
  await withTimeout(client.close(), WAIT_MS, "close()").catch(() => undefined);
  return results.map((result) =>
    result.status === "fulfilled" ? "stored" : (result.reason as { code: unknown }).code,
  );
}

const OTHER_SHA256 = sha256(Buffer.from("other"));

describe("[T-BATCH-RECEIPT] each file of a batch is answered alone", () => {
  it("[K-RECEIPT-CHECK] plain: a file's wrong digest or bytes fails it alone; a failure fails it with its code", async () => {
    const key = randomBytes(32);
    const { files } = await threeFiles();
    const port = await answeringBatches(
      (item) =>
        batchAnswer(item, [
          faithful(0),
          { ...faithful(1), sha256: OTHER_SHA256 },
          { code: "STORAGE_FAILED", message: "no space left" },
        ]),
      key,
    );
    expect(await sendBatch(port, key, false, files)).toEqual([
      "stored",
      "INTEGRITY_MISMATCH",
      "STORAGE_FAILED",
    ]);
  });

  it("[K-RECEIPT-SESSION] encrypted: the server's digest is taken; wrong bytes or kind still fail the file", async () => {
    const key = randomBytes(32);
    const { files } = await threeFiles();
    const port = await answeringBatches(
      (item) =>
        batchAnswer(item, [
          { ...faithful(0), sha256: OTHER_SHA256 },
          { ...faithful(1), bytes: 1 },
          { ...faithful(2), kind: "dir" },
        ]),
      key,
    );
    expect(await sendBatch(port, key, true, files)).toEqual([
      "stored",
      "INTEGRITY_MISMATCH",
      "INTEGRITY_MISMATCH",
    ]);
  });

  it("returns the receipt of each file as stored, with its digest and where it went", async () => {
    const key = randomBytes(32);
    const { files } = await threeFiles();
    const port = await answeringBatches((item) => batchAnswer(item, [0, 1, 2].map(faithful)), key);
    const client = await GbClient.connect({ host: "127.0.0.1", port });
    const sent = await withTimeout(
      Promise.all(client.sendBatch(files.map((item) => ({ item })))),
      WAIT_MS,
      "the batch",
    );
    await client.close();
    expect(sent.map((item) => [item.name, item.bytes, item.sha256, item.receipt.savedAs])).toEqual(
      [0, 1, 2].map((index) => {
        const receipt = faithful(index);
        return [receipt.name, receipt.bytes, receipt.sha256, receipt.savedAs];
      }),
    );
  });

  it("a batch's receipt whose bytes differ, or one item's receipt for a batch, fails every file", async () => {
    const key = randomBytes(32);
    const { files } = await threeFiles();
    const wrongBytes = await answeringBatches(
      (item) =>
        batchReceiptText(item.id, {
          kind: "files",
          name: item.meta.name,
          bytes: 1,
          savedAs: "top",
          files: [0, 1, 2].map(faithful),
        }),
      key,
    );
    expect(await sendBatch(wrongBytes, key, false, files)).toEqual(
      Array(3).fill("INTEGRITY_MISMATCH"),
    );
    const single = await answeringBatches(
      (item) => receiptText({ id: item.id, receipt: faithful(0) }),
      key,
    );
    expect(await sendBatch(single, key, false, files)).toEqual(Array(3).fill("INTEGRITY_MISMATCH"));
  });

  it("an item ERROR for the batch fails every file with its code; the connection goes on", async () => {
    const key = randomBytes(32);
    const { files } = await threeFiles();
    const port = await fakeServer(
      (peer) => {
        peer.greet();
        peer.onItemEnd = (item) => {
          if (item.id === 1) peer.error("SIZE_MISMATCH", "the batch ended short", item.id);
          else
            peer.send(
              encodeFrame(
                FrameType.RECEIPT,
                Buffer.from(batchAnswer(item, [0, 1, 2].map(faithful))),
              ),
            );
        };
      },
      { masterKey: key },
    );
    const client = await GbClient.connect({ host: "127.0.0.1", port });
    const refused = client.sendBatch(files.map((item) => ({ item })));
    const stored = client.sendBatch(files.map((item) => ({ item })));
    const outcomes = await withTimeout(
      Promise.allSettled([...refused, ...stored]),
      WAIT_MS,
      "both batches",
    );
    await client.close();
    expect(
      outcomes.map((outcome) =>
        outcome.status === "fulfilled" ? "stored" : (outcome.reason as { code: unknown }).code,
      ),
    ).toEqual([...Array(3).fill("SIZE_MISMATCH"), ...Array(3).fill("stored")]);
  });

  it("a batch's receipt that does not answer every file fails the connection (MALFORMED_MESSAGE)", async () => {
    const key = randomBytes(32);
    const { files } = await threeFiles();
    const port = await answeringBatches((item) => batchAnswer(item, [faithful(0)]), key);
    expect(await sendBatch(port, key, false, files)).toEqual(Array(3).fill("MALFORMED_MESSAGE"));
  });
});

describe("[T-BATCH] a file that cannot go fails alone", () => {
  it("a file removed, or grown, since it was measured is left out of the batch; the others go", async () => {
    const key = randomBytes(32);
    const { root, files } = await threeFiles();
    await rm(path.join(root, "a.txt"));
    await writeFile(path.join(root, "c.txt"), "grown well past its size\n");
    let seen: SeenItem | undefined;
    const port = await answeringBatches((item) => {
      seen = item;
      return batchAnswer(item, [faithful(1)]);
    }, key);
    expect(await sendBatch(port, key, false, files)).toEqual([
      "INPUT_UNREADABLE",
      "stored",
      "INPUT_UNREADABLE",
    ]);
    expect(seen?.meta).toMatchObject({ kind: "files", files: [{ name: "b.txt" }] });
  });
});
