import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PooledFileReader } from "../../src/transfer/client/pooled-file-reader.js";
import { TempDirs } from "../support/temp-dirs.js";
import { withTimeout } from "../support/with-timeout.js";

const WAIT_MS = 10_000;
const BUFFER_BYTES = 1024;
const temp = new TempDirs();

afterEach(async () => {
  await temp.removeAll();
});

async function fileOf(bytes: number): Promise<{ file: string; content: Buffer }> {
  const dir = await temp.make("gb-reader-");
  const file = path.join(dir, "data.bin");
  const content = randomBytes(bytes);
  await writeFile(file, content);
  return { file, content };
}

/** Reads everything, giving each piece back (after copying it) as soon as it arrives. */
async function readAll(reader: PooledFileReader): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of reader) {
    pieces.push(Buffer.from(piece));
    reader.recycle(piece);
  }
  return Buffer.concat(pieces);
}

describe("PooledFileReader", () => {
  it.each([0, 1, BUFFER_BYTES - 1, BUFFER_BYTES, BUFFER_BYTES + 1, 5 * BUFFER_BYTES + 7])(
    "reads a file of %i bytes exactly, in pieces of at most one buffer",
    async (bytes) => {
      const { file, content } = await fileOf(bytes);
      const reader = new PooledFileReader(file, BUFFER_BYTES, 2);
      const seen: number[] = [];
      const pieces: Buffer[] = [];
      for await (const piece of reader) {
        seen.push(piece.length);
        pieces.push(Buffer.from(piece));
        reader.recycle(piece);
      }
      expect(Buffer.concat(pieces).equals(content)).toBe(true);
      expect(seen.every((length) => length > 0 && length <= BUFFER_BYTES)).toBe(true);
      expect(seen.length).toBe(Math.ceil(bytes / BUFFER_BYTES));
    },
  );

  it.each([
    [0, 10],
    [1, BUFFER_BYTES],
    [BUFFER_BYTES + 3, 2 * BUFFER_BYTES + 5],
    [3000, Infinity],
    [5 * BUFFER_BYTES, 100],
  ])("reads a range: from byte %i, at most %i bytes", async (start, length) => {
    const { file, content } = await fileOf(5 * BUFFER_BYTES + 7);
    const reader = new PooledFileReader(file, BUFFER_BYTES, 2, { start, length });
    const end = Math.min(content.length, start + length);
    expect((await readAll(reader)).equals(content.subarray(start, end))).toBe(true);
  });

  it("uses the same buffers again: never more distinct buffers than the pool holds", async () => {
    const { file, content } = await fileOf(20 * BUFFER_BYTES);
    const reader = new PooledFileReader(file, BUFFER_BYTES, 3);
    const backing = new Set<ArrayBufferLike>();
    const pieces: Buffer[] = [];
    for await (const piece of reader) {
      backing.add(piece.buffer);
      pieces.push(Buffer.from(piece));
      reader.recycle(piece);
    }
    expect(Buffer.concat(pieces).equals(content)).toBe(true);
    expect(backing.size).toBeLessThanOrEqual(3);
  });

  it("waits for a buffer to come back instead of overwriting one still in use", async () => {
    const { file, content } = await fileOf(4 * BUFFER_BYTES);
    const reader = new PooledFileReader(file, BUFFER_BYTES, 2);
    const iterator = reader[Symbol.asyncIterator]();
    const first = await iterator.next();
    const second = await iterator.next();
    if (first.done === true || second.done === true) throw new Error("expected two pieces");
    const firstCopy = Buffer.from(first.value);
    let thirdArrived = false;
    const third = iterator.next().then((result) => {
      thirdArrived = true;
      return result;
    });
    // Both buffers are still held: the third read must wait, and the first piece stays intact.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(thirdArrived).toBe(false);
    expect(Buffer.from(first.value).equals(firstCopy)).toBe(true);
    reader.recycle(first.value);
    const result = await withTimeout(third, WAIT_MS, "the third piece");
    expect(result.done).toBe(false);
    expect(firstCopy.equals(content.subarray(0, BUFFER_BYTES))).toBe(true);
    await iterator.return?.(undefined);
  });

  it("close() ends a read that waits for a buffer", async () => {
    const { file } = await fileOf(4 * BUFFER_BYTES);
    const reader = new PooledFileReader(file, BUFFER_BYTES, 1);
    const iterator = reader[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    const second = iterator.next();
    reader.close();
    const result = await withTimeout(second, WAIT_MS, "the end of the iteration");
    expect(result.done).toBe(true);
  });

  it("ignores a view it did not make", async () => {
    const { file, content } = await fileOf(3 * BUFFER_BYTES);
    const reader = new PooledFileReader(file, BUFFER_BYTES, 2);
    reader.recycle(Buffer.alloc(BUFFER_BYTES));
    expect((await readAll(reader)).equals(content)).toBe(true);
  });

  it("fails like a read stream when the file cannot be opened", async () => {
    const dir = await temp.make("gb-reader-");
    const reader = new PooledFileReader(path.join(dir, "missing.bin"), BUFFER_BYTES, 2);
    await expect(readAll(reader)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
