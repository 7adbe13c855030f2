import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync } from "node:fs";

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
