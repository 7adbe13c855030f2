/**
 * [T-BATCH] [T-BATCH-RECEIPT] The server's side of batches of small files, driven by a
 * raw client: each file stored exactly as the file entry it stands for, one receipt that
 * answers each, and what a hostile batch gets.
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readFile, rename, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BatchPlan, GbClient, prepareTree } from "../../src/index.js";
import { FrameType } from "../../src/protocol/constants.js";
import { decodeHeld, entryKey } from "../../src/protocol/tree-messages.js";
import {
  decodeAnswerReceipt,
  type BatchMeta,
  type BatchReceiptMessage,
  type ItemMeta,
} from "../../src/protocol/messages.js";
import {
  RawPeer,
  chunkFrames,
  cut,
  expectServerHealthy,
  frame,
  listDir,
  plainFileItem,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
  sha256,
  startServer,
  tempFiles,
  useResources,
  type TestServer,
} from "./helpers.js";

const resources = useResources();

const MTIME_MS = Date.UTC(2022, 1, 3, 4, 5, 6, 700);

/** Two small files, for the tests whose files' contents do not matter. */
const TWO_FILES: readonly BatchFileData[] = [
  { name: "a", data: Buffer.from("aaaa") },
  { name: "b", data: Buffer.from("bb") },
];

interface BatchFileData {
  readonly name: string;
  readonly data: Buffer;
  readonly exec?: boolean;
}

function batchMeta(
  dir: readonly string[],
  files: readonly BatchFileData[],
  tree?: string,
): BatchMeta {
  return {
    kind: "files",
    name: dir[dir.length - 1] ?? "",
    size: files.reduce((sum, file) => sum + file.data.length, 0),
    dir,
    files: files.map(({ name, data, exec }) => ({
      name,
      size: data.length,
      mtimeMs: MTIME_MS,
      exec: exec ?? false,
    })),
    ...(tree === undefined ? {} : { tree }),
  };
}

function dirMeta(dirPath: readonly string[]): ItemMeta {
  return {
    kind: "dir",
    name: dirPath[dirPath.length - 1] ?? "",
    size: 0,
    entry: { path: dirPath, mtimeMs: MTIME_MS },
  };
}

/** A batch's frames: its ITEM, then its files' bytes in chunks of `chunkSize`. */
function batchFrames(
  id: number,
  meta: BatchMeta,
  files: readonly BatchFileData[],
  chunkSize?: number,
): Buffer {
  const data = Buffer.concat(files.map((file) => file.data));
  return Buffer.concat([plainItemFrame(id, meta), chunkFrames(cut(data, chunkSize))]);
}

async function connect(ts: TestServer): Promise<RawPeer> {
  const peer = await RawPeer.connect(resources, ts.port);
  await peer.write(preamble());
  return peer;
}

function batchReceipt(peer: RawPeer, index: number): BatchReceiptMessage {
  const answer = peer.answers()[index];
  if (answer === undefined) throw new Error(`no answer ${index}`);
  if (answer.type !== FrameType.RECEIPT) {
    throw new Error(`answer ${index} is not a RECEIPT: ${JSON.stringify(readError(answer))}`);
  }
  const message = decodeAnswerReceipt(answer.payload);
  if (!("batch" in message)) throw new Error(`answer ${index} is not a batch's receipt`);
  return message;
}

describe("[T-BATCH] a batch of files", () => {
  it("stores each file as its entry would be (bytes, time, mode), numbered in order, and answers each", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir as string;
    const files: BatchFileData[] = [
      { name: "a.txt", data: Buffer.from("alpha\n") },
      { name: "empty", data: Buffer.alloc(0) },
      { name: "run.sh", data: Buffer.from("#!/bin/sh\necho hi\n"), exec: true },
      { name: "full.bin", data: randomBytes(65_536) },
      // Two names the safe-name steps make equal, and one name twice: numbered, never merged.
      { name: "a:b", data: Buffer.from("first") },
      { name: "a?b", data: Buffer.from("second") },
      { name: "a.txt", data: Buffer.from("again") },
    ];
    const peer = await connect(ts);
    // Chunks of 7 bytes: files begin and end inside chunks, and chunks span files.
    await peer.write(batchFrames(1, batchMeta(["top", "sub"], files), files, 7));
    await peer.write(plainItemFrame(2, dirMeta(["top", "sub"])));
    await peer.write(chunkFrames([]));
    await peer.write(plainItemFrame(3, dirMeta(["top"])));
    await peer.write(chunkFrames([]));
    await peer.waitAnswers(3);
    const { id, batch } = batchReceipt(peer, 0);
    expect(id).toBe(1);
    const bytes = files.reduce((sum, file) => sum + file.data.length, 0);
    expect(batch).toMatchObject({ kind: "files", name: "sub", bytes, savedAs: "top/sub" });
    const stored = ["a.txt", "empty", "run.sh", "full.bin", "a_b", "a_b-1", "a-1.txt"];
    expect(batch.files).toEqual(
      files.map((file, index) => ({
        kind: "file",
        name: file.name,
        bytes: file.data.length,
        sha256: sha256(file.data),
        savedAs: `top/sub/${stored[index] ?? ""}`,
      })),
    );
    expect(await listDir(path.join(saveDir, "top", "sub"))).toEqual([...stored].sort());
    for (const [index, file] of files.entries()) {
      const where = path.join(saveDir, "top", "sub", stored[index] ?? "");
      expect(await readFile(where)).toEqual(file.data);
      const info = await lstat(where);
      expect(Math.trunc(info.mtimeMs)).toBe(MTIME_MS);
      expect(info.mode & 0o111).toBe(file.exec === true ? 0o111 : 0);
    }
    // The server reports each file, under the batch's id.
    const reported = ts.items.filter((item) => item.kind === "file");
    expect(reported.map((item) => [item.id, item.name, item.savedAs])).toEqual(
      files.map((file, index) => [1, file.name, `top/sub/${stored[index] ?? ""}`]),
    );
    peer.end();
    await expectServerHealthy(resources, ts);
  });

  it("a batch the small-file memory cannot hold is written file by file to disk, and stored the same", async () => {
    const ts = await startServer(resources, { smallFileBudgetBytes: 1000 });
    const saveDir = ts.saveDir as string;
    const files: BatchFileData[] = Array.from({ length: 30 }, (_, index) => ({
      name: `f${index}`,
      data: randomBytes(100 + index),
    }));
    const data = Buffer.concat(files.map((file) => file.data));
    const peer = await connect(ts);
    await peer.write(plainItemFrame(1, batchMeta(["disk"], files)));
    await peer.write(frame(FrameType.CHUNK, data.subarray(0, 333)));
    // Not held in memory: each file has its temporary file on disk while the batch arrives
    // (in the save directory, as every file being received).
    await expectEventually(async () => (await tempFiles(saveDir)).length === 30);
    await peer.write(frame(FrameType.LAST_CHUNK, data.subarray(333)));
    await peer.waitAnswers(1);
    const { batch } = batchReceipt(peer, 0);
    expect(batch.files.map((answer) => ("sha256" in answer ? answer.sha256 : answer))).toEqual(
      files.map((file) => sha256(file.data)),
    );
    for (const file of files) {
      expect(await readFile(path.join(saveDir, "disk", file.name))).toEqual(file.data);
    }
    expect(await tempFiles(saveDir)).toEqual([]);
    peer.end();
    await expectServerHealthy(resources, ts);
  });

  it("a connection cut in the middle of a batch stores nothing of it, leaves no file, and gives its memory back", async () => {
    const ts = await startServer(resources, { smallFileBudgetBytes: 5000 });
    const saveDir = ts.saveDir as string;
    const files: BatchFileData[] = Array.from({ length: 20 }, (_, index) => ({
      name: `f${index}`,
      data: randomBytes(200),
    }));
    const data = Buffer.concat(files.map((file) => file.data));
    for (const cutAfter of [0, 1000]) {
      const peer = await connect(ts);
      await peer.write(plainItemFrame(1, batchMeta([`cut${cutAfter}`], files)));
      if (cutAfter > 0) await peer.write(frame(FrameType.CHUNK, data.subarray(0, cutAfter)));
      peer.destroy();
      await ts.waitNoConnections();
    }
    expect(ts.items).toEqual([]);
    expect(await tempFiles(saveDir)).toEqual([]);
    // The 4,000 bytes the cut batches had reserved are free again: a batch of the same
    // size is held in memory (no temporary file while it arrives).
    const peer = await connect(ts);
    // Its first chunk is taken once every file is placed (made on disk, when not in memory).
    const placed = new Promise<void>((resolve) => {
      ts.server.on("progress", (progress) => {
        if (progress.name === "after" && progress.bytes > 0) resolve();
      });
    });
    await peer.write(plainItemFrame(1, batchMeta(["after"], files)));
    await peer.write(frame(FrameType.CHUNK, data.subarray(0, 100)));
    await placed;
    expect(await tempFiles(saveDir)).toEqual([]);
    await peer.write(frame(FrameType.LAST_CHUNK, data.subarray(100)));
    await peer.waitAnswers(1);
    expect(batchReceipt(peer, 0).batch.files).toHaveLength(20);
    for (const name of ["cut0", "cut1000"]) {
      expect(await listDir(path.join(saveDir, name))).toEqual([]);
    }
    peer.end();
    await expectServerHealthy(resources, ts);
  });

  it("a batch that ends short fails whole (SIZE_MISMATCH), stores nothing, and the connection goes on", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir as string;
    const files = TWO_FILES;
    const peer = await connect(ts);
    await peer.write(plainItemFrame(1, batchMeta(["t"], files)));
    await peer.write(frame(FrameType.LAST_CHUNK, Buffer.from("aaaab")));
    await peer.write(plainFileItem(2, "after.txt", Buffer.from("after")));
    await peer.waitAnswers(2);
    const [refused, after] = peer.answers();
    expect(readError(refused!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readReceipt(after!).body.savedAs).toBe("after.txt");
    expect(await listDir(path.join(saveDir, "t"))).toEqual([]);
    peer.end();
    await expectServerHealthy(resources, ts);
  });

  it("a batch with more bytes than it declares fails whole (SIZE_MISMATCH)", async () => {
    const ts = await startServer(resources);
    const files = TWO_FILES;
    const peer = await connect(ts);
    await peer.write(plainItemFrame(1, batchMeta(["t"], files)));
    await peer.write(frame(FrameType.LAST_CHUNK, Buffer.from("aaaabbbb")));
    await peer.waitAnswers(1);
    expect(readError(peer.answers()[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(await listDir(path.join(ts.saveDir as string, "t"))).toEqual([]);
    peer.end();
    await expectServerHealthy(resources, ts);
  });

  it("a batch out of tree order, or naming a tree it does not start, ends the connection (MALFORMED_MESSAGE)", async () => {
    const ts = await startServer(resources);
    const files = TWO_FILES;
    // A batch beside a directory still open: t/x's entry has not come yet.
    const peer = await connect(ts);
    await peer.write(batchFrames(1, batchMeta(["t", "x"], files), files));
    await peer.write(batchFrames(2, batchMeta(["t", "z"], files), files));
    const error = await peer.waitError((e) => e.id === undefined);
    expect(error.code).toBe("MALFORMED_MESSAGE");
    await peer.waitClosed();
    // A tree key on a batch inside an open tree.
    const second = await connect(ts);
    await second.write(batchFrames(1, batchMeta(["u"], files), files));
    await second.write(batchFrames(2, batchMeta(["u"], files, "ab".repeat(32)), files));
    expect((await second.waitError((e) => e.id === undefined)).code).toBe("MALFORMED_MESSAGE");
    await expectServerHealthy(resources, ts);
  });

  it("[T-NOFOLLOW] files whose directory was replaced by a link fail one by one (STORAGE_FAILED), in the receipt; nothing is written through the link", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir as string;
    const outside = path.join(ts.root, "outside");
    const files = TWO_FILES;
    const peer = await connect(ts);
    await peer.write(plainItemFrame(1, batchMeta(["t"], files)));
    await peer.write(frame(FrameType.CHUNK, Buffer.from("aa")));
    // The batch's directory exists once its ITEM is placed: replace it with a link.
    await expectEventually(async () => (await listDir(saveDir)).includes("t"));
    await rename(path.join(saveDir, "t"), outside);
    await symlink(outside, path.join(saveDir, "t"));
    await peer.write(frame(FrameType.LAST_CHUNK, Buffer.from("aabb")));
    await peer.waitAnswers(1);
    const { batch } = batchReceipt(peer, 0);
    expect(batch.files).toHaveLength(2);
    for (const answer of batch.files) expect(answer).toMatchObject({ code: "STORAGE_FAILED" });
    expect(await listDir(outside)).toEqual([]);
    expect(ts.failures.map((failure) => [failure.id, failure.name, failure.code])).toEqual([
      [1, "a", "STORAGE_FAILED"],
      [1, "b", "STORAGE_FAILED"],
    ]);
    peer.destroy();
  });
});

describe("[RES-JOURNAL] a batch's files are journaled as entries", () => {
  it("[RES-HAVE] a tree cut off after a batch: a HAVE finds each of its files held, with its receipt", async () => {
    const ts = await startServer(resources);
    const tree = "cd".repeat(32);
    const files = TWO_FILES;
    const first = await connect(ts);
    await first.write(batchFrames(1, batchMeta(["top", "in"], files, tree), files));
    await first.waitAnswers(1);
    const { batch } = batchReceipt(first, 0);
    // Cut off before the directories' own entries: the tree resumes.
    first.end();
    await first.closed;
    const second = await connect(ts);
    const keys = files.map((file) =>
      entryKey(["top", "in", file.name], file.data.length, MTIME_MS),
    );
    await second.write(frame(FrameType.HAVE, Buffer.from(JSON.stringify({ tree, keys }))));
    await second.until(() => second.frames.some((f) => f.type === FrameType.HELD), "a HELD");
    const held = decodeHeld(second.frames.find((f) => f.type === FrameType.HELD)!.payload);
    expect(held.held).toEqual(batch.files);
    second.end();
    await expectServerHealthy(resources, ts);
  });

  it("a server that does not save answers each file with savedAs null", async () => {
    const ts = await startServer(resources, { save: false });
    const files = TWO_FILES;
    const peer = await connect(ts);
    await peer.write(batchFrames(1, batchMeta(["t"], files), files));
    await peer.waitAnswers(1);
    const { batch } = batchReceipt(peer, 0);
    expect(batch.savedAs).toBeNull();
    expect(batch.files.map((answer) => ("savedAs" in answer ? answer.savedAs : "failed"))).toEqual([
      null,
      null,
    ]);
    peer.end();
  });
});

/** Polls `check` until it holds, for at most 5 s. */
async function expectEventually(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("the condition never held");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("[T-BATCH] the library's batches (README)", () => {
  it("prepareTree, a BatchPlan and GbClient.sendBatch store a directory's files, a promise per file", async () => {
    const ts = await startServer(resources);
    const source = path.join(ts.root, "src", "docs");
    await mkdir(source, { recursive: true });
    for (const name of ["a.txt", "b.txt", "c.txt"]) await writeFile(path.join(source, name), name);
    const tree = await prepareTree(source);
    const client = await GbClient.connect({ host: "127.0.0.1", port: ts.port });
    const plan = new BatchPlan();
    const items = [...tree.items];
    while (items[0] !== undefined && plan.add(items[0])) items.shift();
    expect(plan.entries).toHaveLength(3);
    const files = await Promise.all(client.sendBatch(plan.entries.map((item) => ({ item }))));
    // The rest (the top folder's own entry) goes as it is.
    for (const item of items) await client.send(item);
    await client.close();
    expect(files.map((file) => file.receipt.savedAs)).toEqual([
      "docs/a.txt",
      "docs/b.txt",
      "docs/c.txt",
    ]);
    expect(await readFile(path.join(ts.saveDir as string, "docs", "b.txt"), "utf8")).toBe("b.txt");
  });
});
