import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { smallFileContent } from "../../src/transfer/client/item-sources.js";
import { SlabReader } from "../../src/transfer/client/slab-reader.js";

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function files(count: number, bytes: number): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), "gb-slab-reader-"));
  made.push(dir);
  const paths = Array.from({ length: count }, (_, index) => path.join(dir, `f${index}`));
  await Promise.all(paths.map((file, index) => writeFile(file, Buffer.alloc(bytes, index))));
  return paths;
}

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

  it("a file's memory, once released, holds the files read after it; never before", async () => {
    const paths = await files(40, 4000);
    const reader = new SlabReader();
    // Files of 4,000 bytes: the first 17 fill a slab, the next three start another.
    const kept = paths.slice(0, 20).map((file) => reader.read(file, 4000));
    const [first, last] = [kept[0]!, kept[19]!];
    expect(last.buffer).not.toBe(first.buffer);
    expect(kept.every((bytes, index) => bytes.every((byte) => byte === index))).toBe(true);
    // Not released yet: the next file goes after them.
    const unreleased = reader.read(paths[20]!, 4000);
    expect(unreleased.byteOffset).toBeGreaterThan(last.byteOffset);
    reader.release(unreleased);
    for (const bytes of kept) reader.release(bytes);
    // Every file released: the current slab starts over, and the full one comes back next.
    const next = paths.slice(20).map((file) => reader.read(file, 4000));
    const start = kept.find((bytes) => bytes.buffer === last.buffer)!;
    expect(next[0]!.buffer).toBe(start.buffer);
    expect(next[0]!.byteOffset).toBe(start.byteOffset);
    expect(next.some((bytes) => bytes.buffer === first.buffer)).toBe(true);
    expect(next.every((bytes, index) => bytes.every((byte) => byte === 20 + index))).toBe(true);
  });
});

describe("smallFileContent", () => {
  it("reads a small file when asked, not before; a larger one is not read whole", async () => {
    const [small] = await files(1, 10);
    const reader = new SlabReader();
    const content = smallFileContent(small!, 10, reader);
    // Changed after the item was planned: what goes is what is there at its turn.
    await writeFile(small!, "0123456789");
    expect(content?.read().toString()).toBe("0123456789");
    expect(smallFileContent(small!, 64 * 1024 + 1, reader)).toBeUndefined();
  });

  it("a small file that vanished before its turn fails with INPUT_UNREADABLE, when its turn comes", () => {
    const content = smallFileContent(path.join(tmpdir(), "gb-no-such-file"), 10, new SlabReader());
    expect(() => content?.read()).toThrow(
      expect.objectContaining({ code: "INPUT_UNREADABLE", reason: "missing" }),
    );
  });
});
