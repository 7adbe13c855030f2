import { randomBytes } from "node:crypto";
import { link, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { ErrorCode, StorageError } from "../errors.js";
import { makeDirectory } from "../make-directory.js";

/** The probe's name: a dot file, like the server's temporary files, never a stored name. */
const PROBE_PREFIX = ".gb-transfer-probe-";

/**
 * [CLI-SAVE-DIR] Makes sure gb-server can store items in `directory` before it takes any:
 * creates it if missing, then creates, writes, links (as an item is given its final name)
 * and deletes a probe file there. A server that could not store would otherwise refuse
 * every item, and only say so when one arrives.
 * @throws {StorageError} STORAGE_FAILED, saying which step failed (or that the path is a file).
 */
export async function checkSaveDir(directory: string): Promise<void> {
  const info = await stat(directory).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) {
    throw new StorageError(
      ErrorCode.STORAGE_FAILED,
      `the save directory ${directory} is a file, not a directory`,
    );
  }
  await step(`cannot create the save directory ${directory}`, () => makeDirectory(directory));
  const suffix = randomBytes(8).toString("hex");
  const probe = path.join(directory, `${PROBE_PREFIX}${suffix}.part`);
  const linked = path.join(directory, `${PROBE_PREFIX}${suffix}`);
  try {
    await step(`cannot create and write a file in the save directory ${directory}`, () =>
      writeFile(probe, "gb-transfer probe\n", { flag: "wx" }),
    );
    await step(`cannot link a file in the save directory ${directory}`, () => link(probe, linked));
    await step(`cannot delete a file in the save directory ${directory}`, () => unlink(linked));
    await step(`cannot delete a file in the save directory ${directory}`, () => unlink(probe));
  } finally {
    // Whatever step failed, the probe leaves nothing behind that it can remove.
    await unlink(linked).catch(() => undefined);
    await unlink(probe).catch(() => undefined);
  }
}

async function step(what: string, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new StorageError(ErrorCode.STORAGE_FAILED, `${what}: ${detail}`, { cause: error });
  }
}
