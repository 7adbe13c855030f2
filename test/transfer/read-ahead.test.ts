import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { newReadAhead, smallFileContent } from "../../src/transfer/client/item-sources.js";
import { ReadAhead, SlabReader } from "../../src/transfer/client/read-ahead.js";

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function files(count: number, bytes: number): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "gb-ahead-"));
  made.push(dir);
  const paths = Array.from({ length: count }, (_, index) => path.join(dir, `f${index}`));
  await Promise.all(paths.map((file, index) => writeFile(file, Buffer.alloc(bytes, index))));
  return paths;
}

describe("ReadAhead", () => {
  it("reads within its budget: a file waits until an earlier one is taken", async () => {
    const [a, b, c] = await files(3, 100);
    const ahead = new ReadAhead(250, 10);
    const takeA = ahead.read(a!, 100);
    const takeB = ahead.read(b!, 100);
    const takeC = ahead.read(c!, 100);
    expect(takeC.ready()).toBeUndefined();
    // Over the budget, c has not been read yet: removed now, its read fails later.
    await rm(c!);
    expect((await takeA.take()).length).toBe(100);
    expect((await takeB.take())[0]).toBe(1);
    await expect(takeC.take()).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a file larger than the whole budget is still read, alone", async () => {
    const [big] = await files(1, 1000);
    expect((await new ReadAhead(10, 1).read(big!, 1000).take()).length).toBe(1000);
  });

  it("a file's memory, once recycled, holds the files read after it; never before", async () => {
    const paths = await files(40, 4000);
    const ahead = new ReadAhead(1 << 20, 10);
    // Ten slabs' worth read and kept: each in memory of its own.
    const kept = await Promise.all(paths.slice(0, 20).map((file) => ahead.read(file, 4000).take()));
    const memory = new Set(kept.map((bytes) => bytes.buffer));
    expect(kept.every((bytes, index) => bytes.every((byte) => byte === index))).toBe(true);
    for (const bytes of kept) ahead.recycle(bytes);
    const next = await Promise.all(paths.slice(20).map((file) => ahead.read(file, 4000).take()));
    // The files after went into the memory given back, each whole and its own.
    expect(next.some((bytes) => memory.has(bytes.buffer))).toBe(true);
    expect(next.every((bytes, index) => bytes.every((byte) => byte === 20 + index))).toBe(true);
  });

  it("a small file that vanished before its turn fails with INPUT_UNREADABLE, when its turn comes", async () => {
    const content = smallFileContent(path.join(tmpdir(), "gb-no-such-file"), 10, newReadAhead());
    await expect(content?.take()).rejects.toMatchObject({
      code: "INPUT_UNREADABLE",
      reason: "missing",
    });
  });
});

describe("SlabReader", () => {
  it("reads a file whole; one that grew, one byte over its size; one that shrank, what it holds", async () => {
    const [same, grown, shrunk] = await files(3, 100);
    await writeFile(grown!, Buffer.alloc(5000, 1));
    await writeFile(shrunk!, Buffer.alloc(40, 2));
    const reader = new SlabReader();
    expect(reader.read(same!, 100).length).toBe(100);
    expect(reader.read(grown!, 100).length).toBe(101);
    expect(reader.read(shrunk!, 100)).toEqual(Buffer.alloc(40, 2));
    expect(() => reader.read(path.join(tmpdir(), "gb-no-such-file"), 10)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });
});
