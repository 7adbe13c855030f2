import { readdir, readFile } from "node:fs/promises";

/** Where Linux says a process's limits and lists its open files. */
const LIMITS_FILE = "/proc/self/limits";
const OPEN_FILES_DIR = "/proc/self/fd";
const OPEN_FILES_LINE = /^Max open files\s+(\d+|unlimited)\s/m;

/**
 * How many files (descriptors: sockets, files, pipes) this process may have open: the soft
 * limit `ulimit -n` sets. Node has no `getrlimit`, so it is read from /proc/self/limits;
 * null where that cannot be read (not Linux) or says "unlimited".
 */
export async function readOpenFileLimit(): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(LIMITS_FILE, "utf8");
  } catch {
    return null;
  }
  const soft = OPEN_FILES_LINE.exec(text)?.[1];
  if (soft === undefined || soft === "unlimited") return null;
  const limit = Number(soft);
  return Number.isSafeInteger(limit) && limit > 0 ? limit : null;
}

/** How many descriptors this process has open now, or null where that cannot be read. */
export async function countOpenFiles(): Promise<number | null> {
  try {
    return (await readdir(OPEN_FILES_DIR)).length;
  } catch {
    return null;
  }
}

/** True for the errors of a process (EMFILE) or a system (ENFILE) out of descriptors. */
export function isOutOfFiles(error: unknown): boolean {
  return (
    error instanceof Error &&
    "code" in error &&
    (error.code === "EMFILE" || error.code === "ENFILE")
  );
}
