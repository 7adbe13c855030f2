import { lstat, mkdir, readFile, readdir, rename, rm, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  parseSmallFileAnswers,
  parseSmallFileBatch,
} from "../../src/transfer/server/small-file-job.js";
import {
  SMALL_FILE_MAX_BYTES,
  SmallFileWriter,
  type SmallFileRequest,
} from "../../src/transfer/server/small-file-writer.js";
import { TempDirs } from "../support/temp-dirs.js";

const temp = new TempDirs();
const writers: SmallFileWriter[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((writer) => writer.close()));
  await temp.removeAll();
});

const OLD_MTIME_MS = Date.UTC(2021, 5, 6, 7, 8, 9, 250);

async function newWriter(
  durable = true,
  budget?: number,
): Promise<{ writer: SmallFileWriter; dir: string }> {
  const dir = await temp.make("gb-small-");
  const writer = new SmallFileWriter({ saveDirectory: dir, durable }, budget);
  writers.push(writer);
  return { writer, dir };
}

function file(
  directory: string,
  baseName: string,
  data: string,
  extra: Partial<SmallFileRequest> = {},
): SmallFileRequest {
  return {
    kind: "file",
    directory,
    relative: null,
    baseName,
    data: Buffer.from(data),
    exec: null,
    mtimeMs: null,
    resumed: false,
    ...extra,
  };
}

describe("SmallFileWriter", () => {
  for (const durable of [true, false]) {
    it(`[V-GROUP] stores files in the order given, never over each other (durable: ${durable})`, async () => {
      const { writer, dir } = await newWriter(durable);
      const names = await Promise.all(
        ["one", "two", "three"].map((text) => writer.store(file(dir, "a.txt", text))),
      );
      expect(names).toEqual(["a.txt", "a-1.txt", "a-2.txt"]);
      expect(await readFile(path.join(dir, "a-1.txt"), "utf8")).toBe("two");
      // No temporary file is left behind.
      expect((await readdir(dir)).sort()).toEqual(["a-1.txt", "a-2.txt", "a.txt"]);
    });
  }

  it("[T-MODE] [T-MTIME] a file of a tree gets its mode and time; a directory job its time", async () => {
    const { writer, dir } = await newWriter();
    const sub = path.join(dir, "top");
    await mkdir(sub);
    const name = await writer.store(
      file(sub, "run.sh", "#!/bin/sh\n", { relative: "top", exec: true, mtimeMs: OLD_MTIME_MS }),
    );
    await writer.store({
      ...file(sub, "", ""),
      kind: "dir",
      relative: "top",
      mtimeMs: OLD_MTIME_MS,
    });
    const stored = await stat(path.join(sub, name));
    expect(stored.mode & 0o777).toBe(0o755);
    expect(Math.floor(stored.mtimeMs)).toBe(OLD_MTIME_MS);
    expect(Math.floor((await stat(sub)).mtimeMs)).toBe(OLD_MTIME_MS);
  });

  it("[T-NOFOLLOW] a tree's directory swapped for a link: STORAGE_FAILED, nothing written through it", async () => {
    const { writer, dir } = await newWriter();
    const outside = await temp.make("gb-outside-");
    const sub = path.join(dir, "top");
    await mkdir(sub);
    await rename(sub, path.join(outside, "moved"));
    await symlink(path.join(outside, "moved"), sub);
    await expect(writer.store(file(sub, "x.txt", "x", { relative: "top" }))).rejects.toMatchObject({
      code: "STORAGE_FAILED",
    });
    await expect(
      writer.store({ ...file(sub, "", ""), kind: "dir", relative: "top", mtimeMs: OLD_MTIME_MS }),
    ).rejects.toMatchObject({ code: "STORAGE_FAILED" });
    expect(await readdir(path.join(outside, "moved"))).toEqual([]);
    expect((await lstat(sub)).isSymbolicLink()).toBe(true);
    expect(await readdir(dir)).toEqual(["top"]);
  });

  it("a save directory removed: STORAGE_FAILED; once it is back, files are stored again", async () => {
    const { writer, dir } = await newWriter();
    await rm(dir, { recursive: true });
    await expect(writer.store(file(dir, "a.txt", "a"))).rejects.toMatchObject({
      code: "STORAGE_FAILED",
    });
    await mkdir(dir);
    await expect(writer.store(file(dir, "a.txt", "a"))).resolves.toBe("a.txt");
  });

  it("reserves within its budget only, and takes what is given back", async () => {
    const { writer } = await newWriter(true, 10_000);
    expect(writer.reserve(6000)).toBe(true);
    expect(writer.reserve(6000)).toBe(false);
    writer.release(6000);
    expect(writer.reserve(6000)).toBe(true);
    // Larger than a small file: never held in memory, whatever the budget.
    const { writer: roomy } = await newWriter(true, 10 * SMALL_FILE_MAX_BYTES);
    expect(roomy.reserve(SMALL_FILE_MAX_BYTES + 1)).toBe(false);
  });

  it("a held file's memory is used again only once it is stored and its item released", async () => {
    const { writer, dir } = await newWriter(true);
    const size = 40 * 1024;
    const first = writer.allocate(size).fill(1);
    const stored = writer.store({ ...file(dir, "one", ""), data: first });
    // Its item is released (the session is done with it) before the writer copied it.
    writer.release(size, first);
    const second = writer.allocate(size);
    expect(second.buffer).not.toBe(first.buffer);
    second.fill(2);
    expect(await stored).toBe("one");
    expect(await readFile(path.join(dir, "one"))).toEqual(Buffer.alloc(size, 1));
    writer.release(size, second);
    // Both of the first slab's users are done: its memory comes back.
    writer.allocate(size);
    expect(writer.allocate(size).buffer).toBe(first.buffer);
  });

  it("warmUp() starts the thread ahead of the first file, once; it changes nothing of what is stored", async () => {
    const { writer, dir } = await newWriter(true);
    expect(writer.warmUp()).toBe(true);
    expect(writer.warmUp()).toBe(false);
    expect(await writer.store(file(dir, "a.txt", "one"))).toBe("a.txt");
    expect(await readFile(path.join(dir, "a.txt"), "utf8")).toBe("one");
    await writer.close();
    // Closed: warming up starts nothing, and a file is refused.
    expect(writer.warmUp()).toBe(false);
    await expect(writer.store(file(dir, "b.txt", "two"))).rejects.toMatchObject({
      code: "STORAGE_FAILED",
    });
  });

  it("close() stores what was given first, then refuses more", async () => {
    const { writer, dir } = await newWriter();
    const stored = writer.store(file(dir, "last.txt", "last"));
    await writer.close();
    await expect(stored).resolves.toBe("last.txt");
    await expect(writer.store(file(dir, "late.txt", "late"))).rejects.toMatchObject({
      code: "STORAGE_FAILED",
    });
    expect(writer.reserve(1)).toBe(false);
  });
});

describe("what crosses to the writer thread is checked", () => {
  const job = {
    kind: "file",
    directory: "/d",
    relative: null,
    baseName: "a",
    offset: 0,
    length: 2,
    exec: null,
    mtimeMs: null,
    resumed: false,
  };

  it("a well-formed batch passes; a job outside its data, or of an unknown kind, does not", () => {
    const data = new Uint8Array(2);
    const jobs = (list: unknown[]): string => JSON.stringify(list);
    expect(parseSmallFileBatch({ data, jobs: jobs([job]) })?.jobs).toHaveLength(1);
    expect(parseSmallFileBatch({ data, jobs: jobs([{ ...job, length: 3 }]) })).toBeUndefined();
    expect(parseSmallFileBatch({ data, jobs: jobs([{ ...job, kind: "link" }]) })).toBeUndefined();
    expect(parseSmallFileBatch({ data, jobs: jobs([{ ...job, kind: "dir" }]) })).toBeUndefined();
    expect(parseSmallFileBatch({ data, jobs: jobs([{ ...job, resumed: "yes" }]) })).toBeUndefined();
    expect(parseSmallFileBatch({ data: [1, 2], jobs: jobs([job]) })).toBeUndefined();
    expect(parseSmallFileBatch({ data, jobs: [job] })).toBeUndefined();
    expect(parseSmallFileBatch({ data, jobs: "{" })).toBeUndefined();
  });

  it("answers: one per job, each a name or a storage failure", () => {
    expect(parseSmallFileAnswers([{ ok: true, name: "a" }], 1)).toEqual([{ ok: true, name: "a" }]);
    expect(parseSmallFileAnswers([{ ok: true, name: "a" }], 2)).toBeUndefined();
    expect(
      parseSmallFileAnswers([{ ok: false, code: "STORAGE_FAILED", message: "m" }], 1),
    ).toHaveLength(1);
    expect(
      parseSmallFileAnswers([{ ok: false, code: "INTERNAL", message: "m" }], 1),
    ).toBeUndefined();
    expect(parseSmallFileAnswers(null, 0)).toBeUndefined();
  });
});
