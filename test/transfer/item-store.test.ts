import fc from "fast-check";
import { readdir, readFile, rename } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ItemStore, writeAll, type NamingCalls } from "../../src/transfer/server/item-store.js";
import { TempDirs } from "../support/temp-dirs.js";

const tempDirs = new TempDirs();
afterEach(() => tempDirs.removeAll());

const KIB = 1024;
const MIB = 1024 * KIB;

async function newStore(): Promise<ItemStore> {
  const store = new ItemStore(await tempDirs.make("gb-store-"), false);
  await store.init();
  return store;
}

/** Bytes whose value depends on their position and `seed`. */
function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 1) bytes[i] = (i * 31 + seed * 7) & 0xff;
  return bytes;
}

describe("PendingFile", () => {
  it("stores pieces of any mix of sizes, in order (property)", async () => {
    const store = await newStore();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 70 * KIB }), { maxLength: 6 }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (writes) => {
          const file = await store.begin("mixed.bin");
          const expected: Buffer[] = [];
          let seed = 0;
          for (const sizes of writes) {
            const pieces = sizes.map((size) => pattern(size, (seed += 1)));
            expected.push(...pieces);
            await file.write(pieces);
          }
          const name = await file.commit();
          const stored = await readFile(`${store.directory}/${name}`);
          expect(stored.equals(Buffer.concat(expected))).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("copies short pieces, so the buffers they are views of may be reused at once", async () => {
    const store = await newStore();
    const file = await store.begin("short.bin");
    const socketBuffer = Buffer.from("0123456789");
    await file.write([socketBuffer.subarray(2, 5)]);
    socketBuffer.fill(0x78); // the caller reuses its buffer
    const name = await file.commit();
    expect(await readFile(`${store.directory}/${name}`, "latin1")).toBe("234");
  });

  it("asks the writer to wait once several MiB are queued, then lets it go on", async () => {
    const store = await newStore();
    const file = await store.begin("big.bin");
    const piece = pattern(64 * KIB, 3);
    let waits = 0;
    for (let i = 0; i < 160; i += 1) {
      // 10 MiB written without waiting would queue it all; the file must push back.
      const pending = file.write([piece]);
      if (pending !== undefined) {
        waits += 1;
        await pending;
      }
    }
    expect(waits).toBeGreaterThan(0);
    const name = await file.commit();
    const stored = await readFile(`${store.directory}/${name}`);
    expect(stored.length).toBe(160 * 64 * KIB);
    expect(stored.subarray(10 * MIB - piece.length).equals(piece)).toBe(true);
  });

  it("[V-ATOMIC] abort removes the partial file, even with writes queued", async () => {
    const store = await newStore();
    const file = await store.begin("gone.bin");
    void file.write([pattern(3 * MIB, 1)]);
    await file.abort();
    expect(await readdir(store.directory)).toEqual([]);
  });
});

describe("writeAll", () => {
  /** A file handle that accepts at most `limit` bytes per writev and records them. */
  function stingyHandle(limit: number): {
    writev: (buffers: readonly Uint8Array[]) => Promise<{ bytesWritten: number }>;
    written: Buffer[];
    calls: number;
  } {
    const handle = {
      written: [] as Buffer[],
      calls: 0,
      writev: (buffers: readonly Uint8Array[]) => {
        handle.calls += 1;
        const all = Buffer.concat(buffers);
        const taken = all.subarray(0, Math.min(limit, all.length));
        handle.written.push(Buffer.from(taken));
        return Promise.resolve({ bytesWritten: taken.length });
      },
    };
    return handle;
  }

  it("goes on after short writes until every byte is written, in order", async () => {
    const handle = stingyHandle(7);
    const buffers = [pattern(5, 1), pattern(20, 2), pattern(1, 3), pattern(9, 4)];
    await writeAll(handle, buffers);
    expect(Buffer.concat(handle.written).equals(Buffer.concat(buffers))).toBe(true);
    expect(handle.calls).toBe(Math.ceil(35 / 7));
  });

  it("splits more than 1024 buffers over several calls", async () => {
    const handle = stingyHandle(Number.MAX_SAFE_INTEGER);
    const buffers = Array.from({ length: 2500 }, (_, i) => pattern(3, i));
    await writeAll(handle, buffers);
    expect(handle.calls).toBe(3);
    expect(Buffer.concat(handle.written).equals(Buffer.concat(buffers))).toBe(true);
  });

  it("fails instead of spinning when nothing is accepted", async () => {
    await expect(writeAll(stingyHandle(0), [pattern(4, 1)])).rejects.toThrow(/no bytes/);
  });
});

describe("[V-ATOMIC] naming on a file system without hard links", () => {
  function errno(code: string): NodeJS.ErrnoException {
    return Object.assign(new Error(`simulated ${code}`), { code });
  }
  const noLinks = (): Promise<void> => Promise.reject(errno("EPERM"));

  async function storeWith(naming: Partial<NamingCalls>): Promise<ItemStore> {
    const store = new ItemStore(await tempDirs.make("gb-store-"), false, naming);
    await store.init();
    return store;
  }

  it("reserves the name, then moves the file over its placeholder", async () => {
    const store = await storeWith({ link: noLinks, rename });
    const file = await store.begin("notes.txt");
    await file.write([Buffer.from("notes")]);
    expect(await file.commit()).toBe("notes.txt");
    expect(await readdir(store.directory)).toEqual(["notes.txt"]);
    expect(await readFile(`${store.directory}/notes.txt`, "utf8")).toBe("notes");
  });

  it("removes the placeholder when the move fails: no empty file under the final name", async () => {
    const failingRename = (): Promise<void> => Promise.reject(errno("EIO"));
    const store = await storeWith({ link: noLinks, rename: failingRename });
    const file = await store.begin("notes.txt");
    await file.write([Buffer.from("notes")]);
    await expect(file.commit()).rejects.toMatchObject({ code: "STORAGE_FAILED" });
    expect(await readdir(store.directory)).toEqual([]);
  });

  it("a file linked to its name whose temporary name cannot be removed is stored, not failed", async () => {
    const store = await storeWith({ unlink: () => Promise.reject(errno("EIO")) });
    const file = await store.begin("notes.txt");
    await file.write([Buffer.from("notes")]);
    expect(await file.commit()).toBe("notes.txt");
    expect(await readFile(`${store.directory}/notes.txt`, "utf8")).toBe("notes");
    // The temporary name is left behind beside it; nothing else fails.
    expect(await readdir(store.directory)).toHaveLength(2);
  });

  it("never replaces a name another file holds: the next numbered name is reserved", async () => {
    const store = await storeWith({ link: noLinks, rename });
    const first = await store.begin("same.txt");
    await first.write([Buffer.from("1")]);
    const second = await store.begin("same.txt");
    await second.write([Buffer.from("2")]);
    expect([await first.commit(), await second.commit()]).toEqual(["same.txt", "same-1.txt"]);
    expect(await readFile(`${store.directory}/same.txt`, "utf8")).toBe("1");
  });
});

describe("a server out of file descriptors", () => {
  it("refuses a new item with BUSY, not STORAGE_FAILED, when a file cannot be opened (EMFILE)", async () => {
    const emfile = (): Promise<never> =>
      Promise.reject(Object.assign(new Error("simulated EMFILE"), { code: "EMFILE" }));
    const store = new ItemStore(await tempDirs.make("gb-store-"), false, { open: emfile });
    await store.init();
    await expect(store.begin("notes.txt")).rejects.toMatchObject({ code: "BUSY" });
    expect(await readdir(store.directory)).toEqual([]);
  });
});
