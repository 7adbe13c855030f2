import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";

/** Any execute bit [T-MODE]. */
const ANY_EXECUTE_BITS = 0o111n;
const NS_PER_MS = 1_000_000n;

/**
 * [RES-JOURNAL] Whether `file` is a regular file holding exactly `data`, with the time
 * (`mtimeMs`, whole milliseconds) and the executable bit (`exec`) given: the file a
 * server stopped dead named before it could journal it. It is opened without following
 * a link (O_NOFOLLOW) and without waiting on a FIFO (O_NONBLOCK); anything else found
 * under the name, or a file that cannot be read, is not it. When `durable`, a file that
 * is it is flushed before it counts as stored.
 */
export function holdsExactly(
  file: string,
  data: Uint8Array,
  mtimeMs: number | null,
  exec: boolean | null,
  durable: boolean,
): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const info = fstatSync(fd, { bigint: true });
    if (!info.isFile() || info.size !== BigInt(data.length)) return false;
    if (mtimeMs !== null && info.mtimeNs / NS_PER_MS !== BigInt(mtimeMs)) return false;
    if (exec !== null && ((info.mode & ANY_EXECUTE_BITS) !== 0n) !== exec) return false;
    // One byte more than expected is asked for: a file that grew since the stat shows.
    const found = Buffer.allocUnsafe(data.length + 1);
    let read = 0;
    for (;;) {
      const bytes = readSync(fd, found, read, found.length - read, read);
      if (bytes === 0) break;
      read += bytes;
      if (read === found.length) break;
    }
    if (read !== data.length || Buffer.compare(found.subarray(0, read), data) !== 0) return false;
    if (durable) fsyncSync(fd);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** What a file found under an entry's name must be to be that entry [RES-JOURNAL]. */
export interface ExpectedFile {
  readonly size: number;
  /** SHA-256 of the entry's bytes, lower-case hex. */
  readonly sha256: string;
  readonly mtimeMs: number;
  readonly exec: boolean;
}

/** Bytes read at a time when hashing a file found under an entry's name. */
const READ_BYTES = 1024 * 1024;

/**
 * [RES-JOURNAL] {@link holdsExactly} for a file too large to compare in memory: a regular
 * file (opened without following a link or waiting on a FIFO) of the expected size, time
 * and executable bit whose SHA-256 is `expected.sha256`. It is read whole, so it is asked
 * only when a tree that resumes finds its entry's name taken. Flushed when `durable`.
 */
export async function hasDigest(
  file: string,
  expected: ExpectedFile,
  durable: boolean,
): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile() || info.size !== BigInt(expected.size)) return false;
    if (info.mtimeNs / NS_PER_MS !== BigInt(expected.mtimeMs)) return false;
    if (((info.mode & ANY_EXECUTE_BITS) !== 0n) !== expected.exec) return false;
    const hash = createHash("sha256");
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    let read = 0;
    // One byte past the size is asked for at the end: a file that grew since the stat shows.
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, read);
      if (bytesRead === 0) break;
      read += bytesRead;
      if (read > expected.size) return false;
      hash.update(buffer.subarray(0, bytesRead));
    }
    if (read !== expected.size || hash.digest("hex") !== expected.sha256) return false;
    if (durable) await handle.sync();
    return true;
  } catch {
    return false;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
