/**
 * [RES-JOURNAL] What the small-file writer takes for a file it named itself before a
 * server stopped dead: exactly the bytes, time and executable bit, a regular file, not
 * through a link.
 */
import { execFileSync } from "node:child_process";
import { chmod, symlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fileTimeSeconds } from "../../src/transfer/server/item-store.js";
import { holdsExactly } from "../../src/transfer/server/same-file.js";
import { TempDirs } from "../support/temp-dirs.js";

const temp = new TempDirs();
afterEach(async () => {
  await temp.removeAll();
});

const MTIME_MS = Date.UTC(2021, 5, 6, 7, 8, 9, 250);
const DATA = Buffer.from("the very bytes\n");

/** A file as the writer stores it: `data`, its time set as the server sets it. */
async function stored(dir: string, name: string, data: Buffer, exec = false): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, data);
  if (exec) await chmod(file, 0o755);
  const seconds = fileTimeSeconds(MTIME_MS);
  await utimes(file, seconds, seconds);
  return file;
}

describe("holdsExactly", () => {
  it("is true for the same bytes, time and mode, durable or not", async () => {
    const dir = await temp.make("gb-same-");
    const file = await stored(dir, "same", DATA);
    expect(holdsExactly(file, DATA, MTIME_MS, false, true)).toBe(true);
    expect(holdsExactly(file, DATA, MTIME_MS, false, false)).toBe(true);
    const runnable = await stored(dir, "runnable", DATA, true);
    expect(holdsExactly(runnable, DATA, MTIME_MS, true, true)).toBe(true);
  });

  it("is false for other bytes, another size, another time or another mode", async () => {
    const dir = await temp.make("gb-same-");
    const file = await stored(dir, "f", DATA);
    const other = Buffer.from(DATA);
    other[0] = 0x54;
    expect(holdsExactly(file, other, MTIME_MS, false, true)).toBe(false);
    expect(holdsExactly(file, DATA.subarray(1), MTIME_MS, false, true)).toBe(false);
    expect(holdsExactly(file, Buffer.concat([DATA, Buffer.from("!")]), MTIME_MS, false, true)).toBe(
      false,
    );
    expect(holdsExactly(file, DATA, MTIME_MS + 1, false, true)).toBe(false);
    expect(holdsExactly(file, DATA, MTIME_MS, true, true)).toBe(false);
  });

  it("[T-NOFOLLOW] is false for a link to the very file, a FIFO (without waiting on it), a directory or nothing", async () => {
    const dir = await temp.make("gb-same-");
    const file = await stored(dir, "f", DATA);
    await symlink(file, path.join(dir, "link"));
    expect(holdsExactly(path.join(dir, "link"), DATA, MTIME_MS, false, true)).toBe(false);
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    expect(holdsExactly(path.join(dir, "fifo"), DATA, MTIME_MS, false, true)).toBe(false);
    expect(holdsExactly(dir, DATA, MTIME_MS, false, true)).toBe(false);
    expect(holdsExactly(path.join(dir, "missing"), DATA, MTIME_MS, false, true)).toBe(false);
  });
});
