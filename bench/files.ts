/** The work directory, source files of random data, and checks of transferred copies. */
import { createHash, randomFill } from "node:crypto";
import { constants, createReadStream, readFileSync } from "node:fs";
import { access, mkdtemp, open, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const randomFillAsync = promisify(randomFill);

/** Memory-backed and normally present on Linux: transfers then measure no disk. */
const SHARED_MEMORY_DIR = "/dev/shm";

export interface WorkDir {
  readonly path: string;
  /** Where it lives, for the report: "tmpfs (/dev/shm)" or the temporary directory. */
  readonly where: string;
  /** File system type from /proc/mounts, or "unknown". */
  readonly fsType: string;
}

async function isWritableDirectory(dir: string): Promise<boolean> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return false;
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The type of the file system holding `target`, from the longest matching mount point. */
export function fileSystemType(target: string): string {
  let mounts: string;
  try {
    mounts = readFileSync("/proc/mounts", "utf8");
  } catch {
    return "unknown";
  }
  let best = { mountPoint: "", type: "unknown" };
  for (const line of mounts.split("\n")) {
    const [, mountPoint, type] = line.split(" ");
    if (mountPoint === undefined || type === undefined) continue;
    const decoded = mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) =>
      String.fromCharCode(parseInt(octal, 8)),
    );
    const inside =
      target === decoded || target.startsWith(decoded.endsWith("/") ? decoded : `${decoded}/`);
    if (inside && decoded.length > best.mountPoint.length) best = { mountPoint: decoded, type };
  }
  return best.type;
}

/** A fresh directory under /dev/shm when that is writable, else under the temporary directory. */
export async function makeWorkDir(): Promise<WorkDir> {
  const useShm = await isWritableDirectory(SHARED_MEMORY_DIR);
  const parent = useShm ? SHARED_MEMORY_DIR : os.tmpdir();
  const dir = await mkdtemp(path.join(parent, "gb-bench-"));
  const fsType = fileSystemType(dir);
  return {
    path: dir,
    where: useShm ? `${fsType} (${SHARED_MEMORY_DIR})` : `${fsType} (temporary directory)`,
    fsType,
  };
}

const BLOCK_BYTES = 1024 * 1024;

/** Writes `bytes` of random data to `file` in 1 MiB blocks; returns its SHA-256 (hex). */
export async function writeRandomFile(
  file: string,
  bytes: number,
  signal: AbortSignal,
): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(file, "wx");
  try {
    const block = Buffer.allocUnsafe(BLOCK_BYTES);
    for (let written = 0; written < bytes;) {
      signal.throwIfAborted();
      const length = Math.min(BLOCK_BYTES, bytes - written);
      const chunk = block.subarray(0, length);
      await randomFillAsync(chunk);
      hash.update(chunk);
      await handle.write(chunk, 0, length);
      written += length;
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

export async function sha256File(file: string, signal: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: BLOCK_BYTES, signal })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/** A source file: its path, size and SHA-256. */
export interface SourceFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Checks that `copy` has the size and SHA-256 of `source`; throws otherwise. */
export async function verifyCopy(
  copy: string,
  source: SourceFile,
  signal: AbortSignal,
): Promise<void> {
  const info = await stat(copy);
  if (info.size !== source.bytes) {
    throw new Error(`${copy} has ${info.size} bytes, expected ${source.bytes}`);
  }
  const digest = await sha256File(copy, signal);
  if (digest !== source.sha256) throw new Error(`${copy} differs from its source (SHA-256)`);
}

/**
 * The directory where gb-server keeps partial files for resuming (PROTOCOL.md
 * [RES-STATE]); empty once every item is stored.
 */
export const GB_STATE_DIRECTORY = ".gb-transfer-state";

/** `dir`'s names, less gb-server's state directory when it is empty (nothing left in it). */
export async function receivedNames(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  if (!names.includes(GB_STATE_DIRECTORY)) return names;
  const partials = await readdir(path.join(dir, GB_STATE_DIRECTORY));
  return partials.length === 0 ? names.filter((name) => name !== GB_STATE_DIRECTORY) : names;
}

/**
 * Checks the one file a receiver stored in `dir` (names starting with "." are temporary
 * files and count as leftovers; gb-server's empty state directory does not), then empties
 * the directory.
 */
export async function verifyAndClearDir(
  dir: string,
  source: SourceFile,
  signal: AbortSignal,
): Promise<void> {
  const names = await receivedNames(dir);
  try {
    if (names.length !== 1) {
      throw new Error(`expected one received file in ${dir}, found ${names.length}`);
    }
    await verifyCopy(path.join(dir, names[0]!), source, signal);
  } finally {
    await clearDir(dir);
  }
}

/** Removes everything inside `dir`, keeping the directory. */
export async function clearDir(dir: string): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(
    names.map((name) => rm(path.join(dir, name), { recursive: true, force: true })),
  );
}
