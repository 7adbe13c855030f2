import { randomBytes } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { link, open, rename, unlink } from "node:fs/promises";
import { once } from "node:events";
import path from "node:path";
import { ErrorCode, StorageError } from "../errors.js";
import { makeDirectory } from "../make-directory.js";
import { numberedName } from "./safe-name.js";

/** Numbered names (notes-1.txt, notes-2.txt …) tried before random suffixes take over. */
const NUMBERED_NAME_ATTEMPTS = 100;
/** Names tried in all before giving up. */
const MAX_NAME_ATTEMPTS = 200;

/** Bytes the write stream buffers before asking the network side to wait. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/** Prefix of temporary files; they never collide with a stored name, which never starts with a dot. */
export const TEMP_FILE_PREFIX = ".gb-transfer-";
export const TEMP_FILE_SUFFIX = ".part";

function storageError(what: string, cause: unknown): StorageError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(ErrorCode.STORAGE_FAILED, `${what}: ${detail}`, { cause });
}

/**
 * The save directory. Items are written to a temporary file in the directory and only
 * linked to their final name once complete and verified, so a reader never sees a partial
 * file and nothing is ever overwritten.
 */
export class ItemStore {
  readonly directory: string;
  readonly #durable: boolean;

  /**
   * @param directory where items are stored; created when missing.
   * @param durable fsync each file before it gets its final name (default true).
   */
  constructor(directory: string, durable = true) {
    this.directory = path.resolve(directory);
    this.#durable = durable;
  }

  /** Creates the directory if needed. @throws {StorageError} STORAGE_FAILED */
  async init(): Promise<void> {
    try {
      await makeDirectory(this.directory);
    } catch (error) {
      throw storageError(`cannot create the save directory ${this.directory}`, error);
    }
  }

  /** Starts a new file that will be stored under `baseName` (already made safe). */
  async begin(baseName: string): Promise<PendingFile> {
    const tempPath = path.join(
      this.directory,
      `${TEMP_FILE_PREFIX}${randomBytes(8).toString("hex")}${TEMP_FILE_SUFFIX}`,
    );
    const stream = createWriteStream(tempPath, {
      flags: "wx",
      mode: 0o644,
      highWaterMark: WRITE_BUFFER_BYTES,
    });
    try {
      await once(stream, "open");
    } catch (error) {
      throw storageError("cannot create a file in the save directory", error);
    }
    return new PendingFile(this.directory, baseName, tempPath, stream, this.#durable);
  }
}

/** A file being received. Exactly one of {@link commit} or {@link abort} ends it. */
export class PendingFile {
  readonly #directory: string;
  readonly #baseName: string;
  readonly #tempPath: string;
  readonly #stream: WriteStream;
  readonly #durable: boolean;
  #error: unknown;

  constructor(
    directory: string,
    baseName: string,
    tempPath: string,
    stream: WriteStream,
    durable: boolean,
  ) {
    this.#directory = directory;
    this.#baseName = baseName;
    this.#tempPath = tempPath;
    this.#stream = stream;
    this.#durable = durable;
    stream.on("error", (error) => {
      this.#error ??= error;
    });
  }

  /**
   * Queues `chunk` for writing. Returns a promise only when the caller must wait
   * (the write buffer is full); rejects with STORAGE_FAILED when a write failed.
   */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#error !== undefined) return Promise.reject(storageError("write failed", this.#error));
    if (this.#stream.write(chunk)) return undefined;
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        this.#stream.off("error", onError);
        resolve();
      };
      const onError = (error: unknown): void => {
        this.#stream.off("drain", onDrain);
        reject(storageError("write failed", error));
      };
      this.#stream.once("drain", onDrain);
      this.#stream.once("error", onError);
    });
  }

  /**
   * Flushes, optionally fsyncs, and gives the file its final name: `baseName`, or the
   * first free numbered variant. Returns the stored base name.
   * @throws {StorageError} STORAGE_FAILED; the temporary file is then removed.
   */
  async commit(): Promise<string> {
    try {
      await this.#close();
      if (this.#durable) await syncPath(this.#tempPath);
      return await this.#linkToFreeName();
    } catch (error) {
      await unlink(this.#tempPath).catch(() => undefined);
      throw error instanceof StorageError ? error : storageError("cannot store the file", error);
    }
  }

  /** Discards the partial file. Never throws. */
  async abort(): Promise<void> {
    const stream = this.#stream;
    if (!stream.closed) {
      // Listen before destroying; a stream that already closed (after a failed commit)
      // would never emit "close" again.
      const closed = once(stream, "close").catch(() => undefined);
      stream.destroy();
      await closed;
    }
    await unlink(this.#tempPath).catch(() => undefined);
  }

  async #close(): Promise<void> {
    if (this.#error !== undefined) throw storageError("write failed", this.#error);
    const stream = this.#stream;
    await new Promise<void>((resolve, reject) => {
      stream.once("error", reject);
      stream.end(() => {
        stream.off("error", reject);
        resolve();
      });
    });
    if (!stream.closed) await once(stream, "close");
    const error = this.#writeError();
    if (error !== undefined) throw storageError("write failed", error);
  }

  /** The first write error (read through a method: it is set by an event across awaits). */
  #writeError(): unknown {
    return this.#error;
  }

  async #linkToFreeName(): Promise<string> {
    for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
      // After many collisions (every stdin upload is named "stdin") a random suffix
      // finds a free name in one step instead of a linear search.
      const candidate =
        attempt < NUMBERED_NAME_ATTEMPTS
          ? numberedName(this.#baseName, attempt)
          : numberedName(this.#baseName, randomBytes(4).readUInt32BE(0));
      const finalPath = path.join(this.#directory, candidate);
      // Defence in depth: a safe base name can never leave the directory.
      if (path.dirname(finalPath) !== this.#directory) {
        throw new StorageError(
          ErrorCode.STORAGE_FAILED,
          `refusing to write outside the save directory`,
        );
      }
      try {
        // link() fails with EEXIST instead of replacing: never overwrite, never follow a
        // symbolic link planted at the destination, and no window where a partial file shows.
        await link(this.#tempPath, finalPath);
        await unlink(this.#tempPath);
        // Makes the new name itself durable, not only the file's bytes.
        if (this.#durable) await syncPath(this.#directory);
        return candidate;
      } catch (error) {
        if (isErrno(error, "EEXIST")) continue;
        if (isErrno(error, "EPERM") || isErrno(error, "ENOTSUP") || isErrno(error, "EXDEV")) {
          // File systems without hard links: reserve the name exclusively, then replace
          // our own empty placeholder.
          if (await this.#reserve(finalPath)) {
            await rename(this.#tempPath, finalPath);
            return candidate;
          }
          continue;
        }
        throw storageError("cannot store the file", error);
      }
    }
    throw new StorageError(ErrorCode.STORAGE_FAILED, `no free name for ${this.#baseName}`);
  }

  async #reserve(finalPath: string): Promise<boolean> {
    try {
      const handle = await open(finalPath, "wx");
      await handle.close();
      return true;
    } catch (error) {
      if (isErrno(error, "EEXIST")) return false;
      throw error;
    }
  }
}

/** fsync a file or directory by path. */
async function syncPath(target: string): Promise<void> {
  const handle = await open(target, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}
