import { randomBytes } from "node:crypto";
import { link, open, rename, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { ErrorCode, RefusedError, StorageError } from "../../errors.js";
import { makeDirectory } from "../../make-directory.js";
import { DirectorySync } from "./directory-sync.js";
import { isOutOfFiles } from "./open-file-limit.js";
import { linkToFreeName, nameCandidates } from "./name-candidates.js";
import { hasDigest } from "./same-file.js";

/** Mode of a stored file whose sender marked it executable [T-MODE]. */
const EXECUTABLE_FILE_MODE = 0o755;

/** Queued bytes that make one write (a single writev): few large writes, not many small ones. */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** Bytes queued or being written before the network side is asked to wait. */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * Pieces shorter than this are copied into a staging block rather than kept by reference,
 * so that a peer sending tiny chunks can neither pin a socket buffer per byte nor make
 * a write list of millions of entries. Larger pieces are written without a copy.
 */
const COPY_BELOW_BYTES = 16 * 1024;
/** Size of a staging block for short pieces. */
const STAGING_BYTES = 64 * 1024;
/** writev takes at most IOV_MAX (1024 on Linux) buffers per call. */
const MAX_WRITE_PIECES = 1024;

/** Prefix of temporary files; they never collide with a stored name, which never starts with a dot. */
export const TEMP_FILE_PREFIX = ".gb-transfer-";
export const TEMP_FILE_SUFFIX = ".part";

/**
 * A file's turn to take its name [V-GROUP]: `wait` resolves once the file before it has
 * its name; `handOn` lets the next one take its own.
 */
export interface FileNamingTurn {
  readonly wait: Promise<void>;
  handOn(): void;
}

/**
 * Where a file of a tree goes, and what it carries [T-PLACE]: stored in `directory` (an
 * absolute path the tree created), checked by `check` just before it is named
 * [T-NOFOLLOW], its mode and modification time set first [T-MODE] [T-MTIME].
 */
export interface FilePlacement {
  readonly directory: string;
  /** `directory` relative to the save directory, components joined by `/`. */
  readonly relative: string;
  readonly check: () => Promise<void>;
  readonly exec: boolean;
  readonly mtimeMs: number;
}

/**
 * The calls that create a file and give it its name: the system's, or stand-ins that fail
 * on purpose (tests).
 */
export interface NamingCalls {
  readonly open: (path: string, flags: string, mode: number) => Promise<FileHandle>;
  readonly link: (existingPath: string, newPath: string) => Promise<void>;
  readonly rename: (oldPath: string, newPath: string) => Promise<void>;
  /** Removes the temporary name of a file linked to its final one. */
  readonly unlink: (path: string) => Promise<void>;
}

const SYSTEM_NAMING: NamingCalls = { open, link, rename, unlink };

/** A file's size and SHA-256 (lower-case hex), as received. */
export interface StoredDigest {
  readonly size: number;
  readonly sha256: string;
}

/** @internal */
export function storageError(what: string, cause: unknown): StorageError {
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
  readonly #directorySync = new DirectorySync();
  readonly #naming: NamingCalls;

  /**
   * @param directory where items are stored; created when missing.
   * @param durable fsync each file before it gets its final name (default true).
   * @param naming calls to use instead of the system's (tests pass ones that fail).
   */
  constructor(directory: string, durable = true, naming: Partial<NamingCalls> = {}) {
    this.directory = path.resolve(directory);
    this.#durable = durable;
    this.#naming = { ...SYSTEM_NAMING, ...naming };
  }

  /** Items are flushed to disk, and their names with them, before their receipts. */
  get durable(): boolean {
    return this.#durable;
  }

  /**
   * Makes the names made in `directory` so far durable (when the store is durable): one
   * fsync shared by every name made while the one before it ran [V-GROUP].
   * @throws {StorageError} STORAGE_FAILED
   */
  async syncDirectory(directory: string): Promise<void> {
    if (!this.#durable) return;
    try {
      await this.#directorySync.sync(directory);
    } catch (error) {
      throw storageError("cannot flush the directory", error);
    }
  }

  /** Creates the directory if needed. @throws {StorageError} STORAGE_FAILED */
  async init(): Promise<void> {
    try {
      await makeDirectory(this.directory);
    } catch (error) {
      throw storageError(`cannot create the save directory ${this.directory}`, error);
    }
  }

  /**
   * Starts a new file that will be stored under `baseName` (already made safe), in the
   * save directory or, for a file of a tree, where `placement` says.
   * @throws {RefusedError} BUSY when the process is out of file descriptors.
   * @throws {StorageError} STORAGE_FAILED when the file cannot be created.
   */
  async begin(baseName: string, placement?: FilePlacement): Promise<PendingFile> {
    const tempPath = path.join(
      this.directory,
      `${TEMP_FILE_PREFIX}${randomBytes(8).toString("hex")}${TEMP_FILE_SUFFIX}`,
    );
    let handle: FileHandle;
    try {
      handle = await this.#naming.open(tempPath, "wx", 0o644);
    } catch (error) {
      // Out of descriptors is the server's load, not the disk's fault: try again later.
      if (isOutOfFiles(error)) {
        throw new RefusedError(
          ErrorCode.BUSY,
          "the server has too many files open; try again later",
          { cause: error },
        );
      }
      throw storageError("cannot create a file in the save directory", error);
    }
    return new PendingFile(
      placement?.directory ?? this.directory,
      baseName,
      tempPath,
      handle,
      this.#durable,
      placement,
      this.#naming,
    );
  }
}

/**
 * A file being received. Exactly one of {@link commit} or {@link abort} ends it.
 *
 * Writes are queued and go out as one writev per {@link WRITE_BATCH_BYTES}, one at a
 * time, while the next batch fills; the caller is asked to wait only when
 * {@link WRITE_BUFFER_BYTES} are queued or in flight.
 */
export class PendingFile {
  readonly #directory: string;
  readonly #baseName: string;
  readonly #tempPath: string;
  readonly #handle: FileHandle;
  readonly #durable: boolean;
  readonly #placement: FilePlacement | undefined;
  readonly #naming: NamingCalls;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #staging: Buffer | undefined;
  #stagingUsed = 0;
  #writing: Promise<void> | undefined;
  #writingBytes = 0;
  #waiter: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  #error: unknown;
  #closed = false;

  constructor(
    directory: string,
    baseName: string,
    tempPath: string,
    handle: FileHandle,
    durable: boolean,
    placement: FilePlacement | undefined,
    naming: NamingCalls = SYSTEM_NAMING,
  ) {
    this.#directory = directory;
    this.#baseName = baseName;
    this.#tempPath = tempPath;
    this.#handle = handle;
    this.#durable = durable;
    this.#placement = placement;
    this.#naming = naming;
  }

  /** The directory the file is named in (absolute). */
  get directory(): string {
    return this.#directory;
  }

  /**
   * The temporary file's descriptor, for a writer elsewhere (a dictionary worker) that
   * writes the whole file while nothing is queued here.
   */
  get fd(): number {
    return this.#handle.fd;
  }

  /**
   * Queues `pieces` for writing, in order; large ones are kept by reference, so the
   * caller must not change them afterwards. Returns a promise only when the caller must
   * wait (too much is queued); rejects with STORAGE_FAILED when a write failed.
   */
  write(pieces: readonly Uint8Array[]): Promise<void> | undefined {
    if (this.#error !== undefined) return Promise.reject(storageError("write failed", this.#error));
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      if (piece.length < COPY_BELOW_BYTES) this.#stage(piece);
      else {
        this.#closeStaging();
        this.#queue.push(piece);
      }
      this.#queuedBytes += piece.length;
    }
    if (this.#queuedBytes >= WRITE_BATCH_BYTES) this.#startWrite();
    if (this.#queuedBytes + this.#writingBytes < WRITE_BUFFER_BYTES) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /**
   * Flushes, optionally fsyncs, and gives the file its final name: `baseName`, or the
   * first free numbered variant. Returns the stored base name. The name is durable once
   * the caller has synced {@link directory} ({@link ItemStore.syncDirectory}).
   *
   * @param turn resolves when the items before this one have their names: files are
   *   flushed side by side, but named in item order [V-GROUP], so that the first of two
   *   `notes.txt` gets `notes.txt`.
   * @param stored [RES-JOURNAL] the file's size and SHA-256, for an entry of a tree that resumes:
   *   a file found under its own name that is exactly this one (size, time, mode, SHA-256)
   *   is the one a server stopped dead named before it journaled it, and is taken as
   *   stored instead of naming this one beside it.
   * @throws {StorageError} STORAGE_FAILED; the temporary file is then removed.
   */
  async commit(turn?: FileNamingTurn, stored?: StoredDigest): Promise<string> {
    let linked = false;
    let adopted = false;
    try {
      await this.#flush();
      const placement = this.#placement;
      if (placement !== undefined) {
        // [T-MODE] [T-MTIME] through the open file: no path, so no link to follow.
        if (placement.exec) await this.#handle.chmod(EXECUTABLE_FILE_MODE);
        const mtime = fileTimeSeconds(placement.mtimeMs);
        await this.#handle.utimes(mtime, mtime);
      }
      if (this.#durable) await this.#handle.sync();
      await this.#close();
      let name: string;
      try {
        await turn?.wait;
        // [T-NOFOLLOW] link() does not follow a link at the name, but would through a parent.
        await placement?.check();
        adopted =
          stored !== undefined &&
          placement !== undefined &&
          (await hasDigest(
            path.join(this.#directory, this.#baseName),
            { ...stored, mtimeMs: placement.mtimeMs, exec: placement.exec },
            this.#durable,
          ));
        if (adopted) name = this.#baseName;
        else {
          const relative = placement?.relative ?? null;
          const candidates = nameCandidates(this.#baseName, this.#directory, relative);
          ({ name, linked } = await linkToFreeName(this.#tempPath, candidates, this.#naming));
        }
      } finally {
        // The next item may take its name; removing our temporary name needs no turn.
        turn?.handOn();
      }
      // Stored under its name from here: a temporary name that cannot be removed is left
      // behind, it does not make a stored file a failed one.
      if (linked || adopted) await this.#naming.unlink(this.#tempPath).catch(() => undefined);
      return name;
    } catch (error) {
      await this.#close().catch(() => undefined);
      if (!linked) await unlink(this.#tempPath).catch(() => undefined);
      throw error instanceof StorageError ? error : storageError("cannot store the file", error);
    }
  }

  /**
   * Writes what is queued and flushes the file to stable storage; it stays open, unnamed
   * (a resumable partial's checkpoint [RES-STATE]). @throws {StorageError} STORAGE_FAILED
   */
  async sync(): Promise<void> {
    await this.#flush().catch((error: unknown) => {
      throw storageError("cannot write the file", error);
    });
    await this.#handle.sync().catch((error: unknown) => {
      throw storageError("cannot flush the file", error);
    });
  }

  /**
   * Ends the file of an item its connection cut short: discarded, as by {@link abort},
   * unless it is a resumable partial, which stays [RES-FAIL]. Never throws.
   */
  keep(): Promise<void> {
    return this.abort();
  }

  /** Flushes and closes the file, left where it is. @throws {StorageError} STORAGE_FAILED */
  protected async suspend(): Promise<void> {
    await this.sync().finally(() => this.#close().catch(() => undefined));
  }

  /** Discards the partial file. Never throws. */
  async abort(): Promise<void> {
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#staging = undefined;
    await this.#writing?.catch(() => undefined);
    await this.#close().catch(() => undefined);
    await unlink(this.#tempPath).catch(() => undefined);
  }

  #stage(chunk: Uint8Array): void {
    if (this.#staging === undefined || this.#stagingUsed + chunk.length > this.#staging.length) {
      this.#closeStaging();
      this.#staging = Buffer.allocUnsafe(STAGING_BYTES);
    }
    this.#staging.set(chunk, this.#stagingUsed);
    this.#stagingUsed += chunk.length;
  }

  /** Queues the staged bytes so that a following large piece keeps its place in order. */
  #closeStaging(): void {
    if (this.#staging === undefined || this.#stagingUsed === 0) return;
    this.#queue.push(this.#staging.subarray(0, this.#stagingUsed));
    this.#staging = this.#staging.subarray(this.#stagingUsed);
    this.#stagingUsed = 0;
  }

  /** Starts writing the queue unless a write is already under way (it restarts itself). */
  #startWrite(): void {
    if (this.#writing !== undefined || this.#error !== undefined) return;
    this.#closeStaging();
    if (this.#queue.length === 0) return;
    const buffers = this.#queue;
    this.#writingBytes = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#writing = writeAll(this.#handle, buffers).then(
      () => {
        this.#writing = undefined;
        this.#writingBytes = 0;
        if (this.#queuedBytes >= WRITE_BATCH_BYTES) this.#startWrite();
        if (this.#queuedBytes + this.#writingBytes < WRITE_BUFFER_BYTES) {
          const waiter = this.#waiter;
          this.#waiter = undefined;
          waiter?.resolve();
        }
      },
      (error: unknown) => {
        this.#writing = undefined;
        this.#error ??= error;
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter?.reject(storageError("write failed", error));
      },
    );
  }

  /** Writes everything queued. @throws the first write error. */
  async #flush(): Promise<void> {
    for (;;) {
      if (this.#writing !== undefined) await this.#writing;
      if (this.#error !== undefined) throw storageError("write failed", this.#error);
      this.#closeStaging();
      if (this.#queue.length === 0) return;
      this.#startWrite();
    }
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }
}

/**
 * Writes all of `buffers` at the file's position, in writev calls of at most
 * MAX_WRITE_PIECES, going on after short writes. Exported for tests.
 */
export async function writeAll(
  handle: { writev(buffers: readonly Uint8Array[]): Promise<{ bytesWritten: number }> },
  buffers: readonly Uint8Array[],
): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    const batch = rest.slice(0, MAX_WRITE_PIECES);
    let wanted = 0;
    for (const buffer of batch) wanted += buffer.length;
    const { bytesWritten } = await handle.writev(batch);
    if (bytesWritten === wanted) {
      rest = rest.slice(batch.length);
      continue;
    }
    if (bytesWritten <= 0) throw new Error("the file system accepted no bytes");
    // A short write: skip what went out and go on with the remainder.
    let skip = bytesWritten;
    const remaining: Uint8Array[] = [];
    for (const buffer of rest) {
      if (skip >= buffer.length) skip -= buffer.length;
      else {
        remaining.push(skip > 0 ? buffer.subarray(skip) : buffer);
        skip = 0;
      }
    }
    rest = remaining;
  }
}

/** Half a millisecond, in seconds. */
const HALF_MS_IN_SECONDS = 0.0005;

/**
 * [T-MTIME] A time for `utimes`: Node passes it on as floating-point seconds, which can
 * land a hair under the millisecond meant and read back as the one before it; half a
 * millisecond more lands inside it.
 */
export function fileTimeSeconds(mtimeMs: number): number {
  return mtimeMs / 1000 + HALF_MS_IN_SECONDS;
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}
