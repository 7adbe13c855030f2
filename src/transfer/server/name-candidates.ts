import { open, unlink } from "node:fs/promises";
import path from "node:path";
import { ErrorCode, StorageError } from "../../errors.js";
import { MAX_TREE_PATH_BYTES } from "../../protocol/constants.js";
import { candidateName, MAX_NAME_ATTEMPTS } from "./safe-name.js";

/** A name to try for a file, and the path it stands for. */
export interface NameCandidate {
  readonly name: string;
  readonly finalPath: string;
}

/**
 * The names to try, in order, for a file stored as `baseName` in `directory`
 * [V-NAME-NUMBER]: the caller tries each until one is free. `relative` is the directory
 * relative to the save directory, for a file of a tree, whose stored path must fit a
 * receipt [T-PLACE].
 *
 * @throws {StorageError} STORAGE_FAILED when the stored path would be too long, or would
 *   leave `directory` (never, for a safe base name: defence in depth).
 */
export function* nameCandidates(
  baseName: string,
  directory: string,
  relative: string | null,
): Generator<NameCandidate, void, undefined> {
  for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
    const name = candidateName(baseName, attempt);
    if (
      relative !== null &&
      Buffer.byteLength(`${relative}/${name}`, "utf8") > MAX_TREE_PATH_BYTES
    ) {
      throw new StorageError(
        ErrorCode.STORAGE_FAILED,
        `the stored path would be longer than ${MAX_TREE_PATH_BYTES} bytes`,
      );
    }
    const finalPath = path.join(directory, name);
    if (path.dirname(finalPath) !== directory) {
      throw new StorageError(
        ErrorCode.STORAGE_FAILED,
        "refusing to write outside the save directory",
      );
    }
    yield { name, finalPath };
  }
}

/** The error when every candidate was taken. */
export function noFreeName(baseName: string): StorageError {
  return new StorageError(ErrorCode.STORAGE_FAILED, `no free name for ${baseName}`);
}

/**
 * What a failed hard link says about the file system: `"taken"` (the name exists: try
 * the next), `"no-links"` (a file system without hard links: reserve the name and
 * rename instead), or `"failed"`.
 */
export function linkFailure(error: unknown): "taken" | "no-links" | "failed" {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  if (code === "EEXIST") return "taken";
  if (code === "EPERM" || code === "ENOTSUP" || code === "EXDEV") return "no-links";
  return "failed";
}

/** The calls {@link linkToFreeName} names a file with: the system's, or stand-ins (tests). */
export interface LinkCalls {
  readonly link: (existingPath: string, newPath: string) => Promise<void>;
  readonly rename: (oldPath: string, newPath: string) => Promise<void>;
}

/**
 * [V-NAME-NUMBER] [V-ATOMIC] Gives the complete file at `tempPath` the first free name of
 * `candidates`, never replacing one: a hard link, which fails on a name taken (and never
 * follows a link planted there, nor shows a partial file). On a file system without hard
 * links, the name is reserved exclusively and the file moved over that empty placeholder.
 * @returns the name taken, and whether the temporary name is still there to remove.
 * @throws {StorageError} STORAGE_FAILED when every candidate is taken; what the file
 *   system throws otherwise.
 */
export async function linkToFreeName(
  tempPath: string,
  candidates: Iterable<NameCandidate>,
  calls: LinkCalls,
): Promise<{ name: string; linked: boolean }> {
  let baseName: string | undefined;
  for (const { name, finalPath } of candidates) {
    baseName ??= name;
    try {
      await calls.link(tempPath, finalPath);
      return { name, linked: true };
    } catch (error) {
      const failure = linkFailure(error);
      if (failure === "taken") continue;
      if (failure === "failed") throw error;
      if (await reserveName(finalPath)) {
        await replacePlaceholder(tempPath, finalPath, calls);
        return { name, linked: false };
      }
    }
  }
  throw noFreeName(baseName ?? "");
}

/**
 * [V-ATOMIC] Moves the file over the empty placeholder reserved under its final name;
 * when that fails, removes the placeholder, so that no empty file is left under a name
 * that was never stored.
 */
async function replacePlaceholder(
  tempPath: string,
  finalPath: string,
  calls: LinkCalls,
): Promise<void> {
  try {
    await calls.rename(tempPath, finalPath);
  } catch (error) {
    await unlink(finalPath).catch(() => undefined);
    throw error;
  }
}

/** Creates `finalPath` empty and exclusively: false when the name is taken. */
async function reserveName(finalPath: string): Promise<boolean> {
  try {
    const handle = await open(finalPath, "wx");
    await handle.close();
    return true;
  } catch (error) {
    if (linkFailure(error) === "taken") return false;
    throw error;
  }
}
