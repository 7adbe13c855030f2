import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import nodePath from "node:path";
import { formatKeyFile } from "../crypto/key-file.js";
import { ErrorCode, StorageError } from "../errors.js";
import { makeDirectory } from "../make-directory.js";

/** rw------- : a key file is readable by its owner only. */
const KEY_FILE_MODE = 0o600;

/** rwx------ : a directory created for a key file. */
const KEY_DIR_MODE = 0o700;

/** Random bytes in the name of a temporary key file, so that concurrent writers never meet. */
const TEMPORARY_NAME_BYTES = 8;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errnoCode(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}

function cannotWrite(path: string, error: unknown): StorageError {
  return new StorageError(
    ErrorCode.STORAGE_FAILED,
    `cannot write key file ${path}: ${describe(error)}`,
    { cause: error },
  );
}

async function makeKeyDirectory(path: string): Promise<void> {
  try {
    // The mode applies only to directories this call creates; existing ones are left alone.
    await makeDirectory(nodePath.dirname(path), KEY_DIR_MODE);
  } catch (error) {
    throw cannotWrite(path, error);
  }
}

/**
 * Writes the key file text for `key` into an open, new file and flushes it to disk: a key
 * must be on disk before anyone is told its fingerprint, for the other machine will be
 * given a copy. Closes the file.
 */
async function writeAndClose(handle: FileHandle, key: Uint8Array): Promise<void> {
  try {
    await handle.writeFile(formatKeyFile(key), { encoding: "utf8" });
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates the key file `path` holding `key` (mode 0600; missing directories are created
 * with mode 0700), written in full and flushed before this returns.
 *
 * @returns false, touching nothing, when `path` exists already.
 * @throws {StorageError} STORAGE_FAILED when the file or a directory cannot be created or
 *   written; a partly written file is removed.
 */
export async function createKeyFileHolding(path: string, key: Uint8Array): Promise<boolean> {
  await makeKeyDirectory(path);
  let handle: FileHandle;
  try {
    // "wx" = O_CREAT | O_EXCL: fails if the file exists, even if it appeared just now.
    handle = await open(path, "wx", KEY_FILE_MODE);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return false;
    throw cannotWrite(path, error);
  }
  try {
    await writeAndClose(handle, key);
  } catch (error) {
    // A partly written key file would be refused as malformed on every later read.
    await rm(path, { force: true }).catch(() => undefined);
    throw cannotWrite(path, error);
  }
  return true;
}

/**
 * Replaces the key file `path` (or creates it) with one holding `key`: the new file is
 * written in full to a temporary name beside it (mode 0600) and then renamed over it, so
 * that `path` holds either the old key or the new one, never part of a key.
 *
 * @throws {StorageError} STORAGE_FAILED when the new file cannot be written or renamed;
 *   the old file is then left as it was.
 */
export async function replaceKeyFile(path: string, key: Uint8Array): Promise<void> {
  await makeKeyDirectory(path);
  const temporary = nodePath.join(
    nodePath.dirname(path),
    `.${nodePath.basename(path)}.${randomBytes(TEMPORARY_NAME_BYTES).toString("hex")}.tmp`,
  );
  try {
    await writeAndClose(await open(temporary, "wx", KEY_FILE_MODE), key);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw cannotWrite(path, error);
  }
  await syncDirectory(nodePath.dirname(path));
}

/**
 * Flushes a directory, so that a rename in it survives a crash. Best effort: some
 * platforms (Windows) cannot open a directory, and the rename has happened either way.
 */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, "r");
    await handle.sync();
  } catch {
    // Not fatal: the key file is complete; only its survival of a power cut is less sure.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
