/**
 * The entry point of the small-file writer thread (see {@link SmallFileWriter}): it takes
 * batches of small files, complete and hashed, and stores each as the server stores any
 * file [V-ATOMIC]: written to a temporary file, its mode and time set [T-MODE]
 * [T-MTIME], flushed, its directory checked [T-NOFOLLOW], then linked to the first free
 * name [V-NAME-NUMBER]; then it flushes each directory once for the whole batch
 * [V-GROUP] and answers. It makes the same system calls as the event loop would, but
 * synchronously, without a trip through the thread pool for each one: for a file of a
 * few KiB those trips cost many times the calls themselves.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  futimesSync,
  linkSync,
  lutimesSync,
  openSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { ErrorCode, StorageError } from "../../errors.js";
import { fileTimeSeconds, TEMP_FILE_PREFIX, TEMP_FILE_SUFFIX } from "./item-store.js";
import { linkFailure, nameCandidates, noFreeName } from "./name-candidates.js";
import { isOutOfFiles } from "./open-file-limit.js";
import { holdsExactly } from "./same-file.js";
import {
  parseSmallFileBatch,
  parseSmallFileWriterSettings,
  type SmallFileAnswer,
  type SmallFileJob,
  type SmallFileWriterSettings,
} from "./small-file-job.js";

const STORED_FILE_MODE = 0o644;
const EXECUTABLE_FILE_MODE = 0o755;

/** Temporary names: a random prefix for this thread, then a counter. */
const tempPrefix = `${TEMP_FILE_PREFIX}${randomBytes(6).toString("hex")}-`;
let tempCounter = 0;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function failed(what: string, error: unknown): SmallFileAnswer {
  if (error instanceof StorageError) {
    return { ok: false, code: ErrorCode.STORAGE_FAILED, message: error.message };
  }
  if (isOutOfFiles(error)) {
    return {
      ok: false,
      code: ErrorCode.BUSY,
      message: "the server has too many files open; try again later",
    };
  }
  return { ok: false, code: ErrorCode.STORAGE_FAILED, message: `${what}: ${describe(error)}` };
}

function writeWhole(fd: number, data: Uint8Array): void {
  let written = 0;
  while (written < data.length) {
    const wrote = writeSync(fd, data, written, data.length - written);
    if (wrote <= 0) throw new Error("the file system accepted no bytes");
    written += wrote;
  }
}

class BatchStore {
  readonly #settings: SmallFileWriterSettings;
  /** Directories that got a name in this batch, flushed once at its end [V-GROUP]. */
  readonly named = new Set<string>();
  /** Directories of trees checked in this batch [T-NOFOLLOW]. */
  readonly #checked = new Set<string>();
  #realRoot: string | undefined;

  constructor(settings: SmallFileWriterSettings) {
    this.#settings = settings;
  }

  store(job: SmallFileJob, data: Uint8Array): SmallFileAnswer {
    return job.kind === "dir" ? this.#finishDirectory(job) : this.#storeFile(job, data);
  }

  /**
   * [T-MTIME] A directory's time, set once everything in it is named (the jobs before
   * this one); `lutimes` changes a link planted in its place, never what it points to.
   * Flushed with the batch's directories: its time, and the names made in it.
   */
  #finishDirectory(job: SmallFileJob): SmallFileAnswer {
    try {
      if (job.relative !== null) this.#check(job.directory, job.relative);
      if (job.mtimeMs !== null) {
        const mtime = fileTimeSeconds(job.mtimeMs);
        lutimesSync(job.directory, mtime, mtime);
      }
      this.named.add(job.directory);
      return { ok: true, name: "" };
    } catch (error) {
      return failed("cannot finish the directory", error);
    }
  }

  #storeFile(job: SmallFileJob, data: Uint8Array): SmallFileAnswer {
    const tempPath = path.join(
      this.#settings.saveDirectory,
      `${tempPrefix}${String(tempCounter++)}${TEMP_FILE_SUFFIX}`,
    );
    let fd: number;
    try {
      fd = openSync(tempPath, "wx", STORED_FILE_MODE);
    } catch (error) {
      return failed("cannot create a file in the save directory", error);
    }
    let linked = false;
    try {
      try {
        writeWhole(fd, data);
        // [T-MODE] [T-MTIME] through the open file: no path, so no link to follow.
        if (job.exec === true) fchmodSync(fd, EXECUTABLE_FILE_MODE);
        if (job.mtimeMs !== null) {
          const mtime = fileTimeSeconds(job.mtimeMs);
          futimesSync(fd, mtime, mtime);
        }
        if (this.#settings.durable) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (job.relative !== null) this.#check(job.directory, job.relative);
      const name = this.#link(tempPath, job, data);
      linked = name.linked;
      this.named.add(job.directory);
      // Stored under its name from here: a temporary name that cannot be removed is left
      // behind (a `.part` file), it does not make a stored file a failed one.
      if (linked) removeQuietly(tempPath);
      return { ok: true, name: name.name };
    } catch (error) {
      if (!linked) removeQuietly(tempPath);
      return failed("cannot store the file", error);
    }
  }

  /** Flushes every directory named in, once; the answers of its files then fail. */
  syncDirectories(answers: SmallFileAnswer[], jobs: readonly SmallFileJob[]): void {
    if (!this.#settings.durable) return;
    for (const directory of this.named) {
      try {
        const fd = openSync(directory, "r");
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      } catch (error) {
        const failure = failed("cannot flush the directory", error);
        jobs.forEach((job, index) => {
          if (job.directory === directory && answers[index]?.ok === true) answers[index] = failure;
        });
      }
    }
  }

  /**
   * [T-NOFOLLOW] The directory's real path is where the tree created it: no link in it.
   * Once per batch for each directory, just before the first file is named in it: the
   * files of a batch are named within a few milliseconds, and a check is a system call
   * for each component of the path.
   */
  #check(directory: string, relative: string): void {
    if (this.#checked.has(directory)) return;
    this.#realRoot ??= realpathSync.native(this.#settings.saveDirectory);
    const expected = path.join(this.#realRoot, ...relative.split("/"));
    if (realpathSync.native(directory) !== expected) {
      throw new StorageError(
        ErrorCode.STORAGE_FAILED,
        `${relative} is no longer the directory this tree created (a link or another ` +
          "entry took its place); nothing is written through it",
      );
    }
    this.#checked.add(directory);
  }

  /**
   * Names the file: the first free name of its candidates. `linked`: it is under that
   * name now, and its temporary name can go (also when a file found under the name is
   * this very one, [RES-JOURNAL] named by a server stopped dead before it journaled it).
   */
  #link(tempPath: string, job: SmallFileJob, data: Uint8Array): { name: string; linked: boolean } {
    const durable = this.#settings.durable;
    const same = (finalPath: string): boolean =>
      job.resumed && holdsExactly(finalPath, data, job.mtimeMs, job.exec, durable);
    for (const { name, finalPath } of nameCandidates(job.baseName, job.directory, job.relative)) {
      try {
        // link() never replaces, and never follows a link planted at the name.
        linkSync(tempPath, finalPath);
        return { name, linked: true };
      } catch (error) {
        const failure = linkFailure(error);
        if (failure === "taken") {
          if (same(finalPath)) return { name, linked: true };
          continue;
        }
        if (failure === "failed") throw error;
        // No hard links here: reserve the name exclusively, then move the file over it.
        if (!reserve(finalPath)) {
          if (same(finalPath)) return { name, linked: true };
          continue;
        }
        try {
          renameSync(tempPath, finalPath);
        } catch (renameError) {
          unlinkSync(finalPath);
          throw renameError;
        }
        return { name, linked: false };
      }
    }
    throw noFreeName(job.baseName);
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Nothing more to do about a temporary file that cannot be removed.
  }
}

function reserve(finalPath: string): boolean {
  try {
    closeSync(openSync(finalPath, "wx"));
    return true;
  } catch (error) {
    if (linkFailure(error) === "taken") return false;
    throw error;
  }
}

const settings = parseSmallFileWriterSettings(workerData);
if (settings === undefined)
  throw new Error("the small-file writer was started without its settings");

parentPort?.on("message", (message: unknown) => {
  const batch = parseSmallFileBatch(message);
  if (batch === undefined) {
    parentPort?.postMessage(null);
    return;
  }
  const store = new BatchStore(settings);
  const answers = batch.jobs.map((job) =>
    store.store(job, batch.data.subarray(job.offset, job.offset + job.length)),
  );
  store.syncDirectories(answers, batch.jobs);
  parentPort?.postMessage(answers);
});
