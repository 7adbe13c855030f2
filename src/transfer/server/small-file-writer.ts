import { Worker } from "node:worker_threads";
import type { InboundItem } from "./inbound-item.js";
import { SlabAllocator } from "../../slab-allocator.js";
import { ErrorCode, RefusedError, StorageError, type GbError } from "../../errors.js";
import {
  parseSmallFileAnswers,
  type SmallFileAnswer,
  type SmallFileJob,
  type SmallFileWriterSettings,
} from "./small-file-job.js";

/** Files of at most this many bytes (declared) are held in memory and stored by the writer. */
export const SMALL_FILE_MAX_BYTES = 64 * 1024;
/** Bytes of small files all connections together may hold in memory before they are stored. */
export const DEFAULT_SMALL_FILE_BUDGET_BYTES = 32 * 1024 * 1024;
/** At most this many files, and {@link MAX_BATCH_BYTES}, go to the writer in one batch. */
const MAX_BATCH_FILES = 256;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * An idle writer thread exits after this long, so that its memory (about 10 MB) goes
 * back. Long enough that trees sent a few seconds apart find it running, its code
 * compiled: a new thread costs a start and a slower first thousand files.
 */
const IDLE_EXIT_MS = 30_000;

/**
 * A small file to store: where, under which name, and its bytes; or a directory of a
 * tree to finish (no bytes).
 */
export interface SmallFileRequest extends Omit<SmallFileJob, "offset" | "length"> {
  readonly data: Uint8Array;
}

interface Queued {
  readonly request: SmallFileRequest;
  readonly resolve: (name: string) => void;
  readonly reject: (error: GbError) => void;
}

/**
 * Stores small files, complete and verified, on a thread of its own [V-GROUP]. A file of a
 * few KiB costs the event loop ten trips through libuv's thread pool (create, write, set
 * its time, flush, close, check its directory, link, unlink, flush the directory), each of
 * which costs more than the system call it makes; the writer thread makes those calls
 * directly, for a batch of files at a time, and flushes each directory once per batch.
 * Files are stored in the order they are given, so that naming order holds across
 * batches: a file given after another is named after it. Files queue while a batch is
 * being stored and go as the next batch, so a busy disk makes batches larger, not
 * queues longer (the sessions stop reading while their answers wait [V-BACKPRESSURE]).
 *
 * The bytes the sessions hold for small files not yet stored are bounded by a budget
 * ({@link reserve}); a file that does not fit it is stored the usual way.
 */
export class SmallFileWriter {
  readonly #settings: SmallFileWriterSettings;
  readonly #budgetBytes: number;
  #heldBytes = 0;
  /** Where the sessions hold small files' bytes. */
  readonly #slabs = new SlabAllocator();
  /**
   * The bytes of the batch being stored, shared with the writer thread: one batch is in
   * flight at a time, so one buffer serves every batch, with no copy on the way and no new
   * memory for each batch.
   */
  #batchData: Uint8Array | undefined;
  #worker: Worker | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #queue: Queued[] = [];
  /** The batch being stored, until its answers arrive. */
  #inFlight: Queued[] | undefined;
  #scheduled = false;
  #closed = false;
  #drained: (() => void) | undefined;

  constructor(settings: SmallFileWriterSettings, budgetBytes = DEFAULT_SMALL_FILE_BUDGET_BYTES) {
    this.#settings = settings;
    this.#budgetBytes = budgetBytes;
  }

  /** The save directory: where files go unless they belong to a tree. */
  get saveDirectory(): string {
    return this.#settings.saveDirectory;
  }

  /**
   * Reserves `bytes` of the budget for a small file being received; false when it does
   * not fit (the file is then written the usual way). Give it back with {@link release}.
   */
  reserve(bytes: number): boolean {
    if (bytes > SMALL_FILE_MAX_BYTES) return false;
    return this.reserveBatch(bytes);
  }

  /**
   * [T-BATCH] Reserves the bytes of a batch's files, each of at most 64 KiB, together:
   * false when they do not fit the budget together. Each file gives its own share back.
   */
  reserveBatch(bytes: number): boolean {
    if (this.#closed || this.#heldBytes + bytes > this.#budgetBytes) return false;
    this.#heldBytes += bytes;
    return true;
  }

  /**
   * Gives back a reservation ({@link reserve}) and the memory {@link allocate} gave for it,
   * once the item holding it is over: the memory is used again once the writer has
   * taken its copy too.
   */
  release(bytes: number, memory?: Buffer): void {
    this.#heldBytes -= bytes;
    if (memory !== undefined) this.#slabs.release(memory);
  }

  /** Memory for a small file's bytes, uninitialised (reserve its size first). */
  allocate(bytes: number): Buffer {
    return this.#slabs.take(bytes);
  }

  /**
   * Stores a file; resolves with the base name it was stored under, once it and its name
   * are durable (when the store is durable). A directory's job resolves with "" once its
   * time is set and durable.
   * @throws {StorageError} STORAGE_FAILED
   * @throws {RefusedError} BUSY when the server is out of file descriptors.
   */
  store(request: SmallFileRequest): Promise<string> {
    if (this.#closed) return Promise.reject(closing());
    // Its bytes stay untouched until they are copied for the thread (#send).
    this.#slabs.retain(request.data);
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (this.#inFlight !== undefined || this.#scheduled) return;
      // Everything given in this turn of the event loop goes in one batch.
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#send();
      });
    });
  }

  /**
   * Starts the thread now, when files are about to come (a tree), rather than with the
   * first batch, which would wait for it; an idle one exits after a while as usual.
   * @returns true when it started one (none was running, and it could).
   */
  warmUp(): boolean {
    if (this.#closed || this.#worker !== undefined) return false;
    try {
      this.#thread();
    } catch {
      // Tried again with the first batch, which fails alone if it still cannot start.
      return false;
    }
    if (this.#inFlight === undefined) this.#idleLater();
    return true;
  }

  /** Stores what was given already, then ends the thread. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight !== undefined || this.#queue.length > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    clearTimeout(this.#idleTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #send(): void {
    if (this.#inFlight !== undefined) return;
    const batch = this.#takeBatch();
    if (batch.length === 0) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained?.();
      return;
    }
    const data = (this.#batchData ??= new Uint8Array(new SharedArrayBuffer(MAX_BATCH_BYTES)));
    const jobs: SmallFileJob[] = [];
    let offset = 0;
    for (const { request } of batch) {
      const { data: bytes, ...where } = request;
      data.set(bytes, offset);
      this.#slabs.release(bytes);
      jobs.push({ ...where, offset, length: bytes.length });
      offset += bytes.length;
    }
    this.#inFlight = batch;
    clearTimeout(this.#idleTimer);
    // The jobs as one JSON text: cloning hundreds of small objects costs the event loop
    // (and its garbage collector) several times more than one string.
    this.#thread().postMessage({ data, jobs: JSON.stringify(jobs) });
  }

  #takeBatch(): Queued[] {
    let bytes = 0;
    let count = 0;
    for (const queued of this.#queue) {
      if (count === MAX_BATCH_FILES) break;
      if (bytes + queued.request.data.length > MAX_BATCH_BYTES) break;
      bytes += queued.request.data.length;
      count++;
    }
    const batch = this.#queue.slice(0, count);
    this.#queue = this.#queue.slice(count);
    return batch;
  }

  #thread(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(workerUrl(), { workerData: this.#settings });
    // An idle writer must not keep a process alive that has nothing else to do.
    worker.unref();
    worker.on("message", (message: unknown) => {
      this.#onAnswers(message);
    });
    worker.on("error", (error: Error) => {
      this.#fail(worker, error.message);
    });
    worker.on("exit", () => {
      this.#fail(worker, "it stopped");
    });
    this.#worker = worker;
    return worker;
  }

  #onAnswers(message: unknown): void {
    const batch = this.#inFlight;
    if (batch === undefined) return;
    this.#inFlight = undefined;
    const answers = parseSmallFileAnswers(message, batch.length);
    batch.forEach((queued, index) => {
      settle(queued, answers?.[index]);
    });
    this.#idleLater();
    this.#send();
  }

  /** An idle thread exits after {@link IDLE_EXIT_MS} (the next batch stops the clock). */
  #idleLater(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      const worker = this.#worker;
      this.#worker = undefined;
      void worker?.terminate();
    }, IDLE_EXIT_MS);
    this.#idleTimer.unref();
  }

  /** The thread failed or exited: its batch fails, and the next batch gets a new one. */
  #fail(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const batch = this.#inFlight;
    this.#inFlight = undefined;
    for (const queued of batch ?? []) {
      queued.reject(
        new StorageError(ErrorCode.STORAGE_FAILED, `the server's file writer failed: ${why}`),
      );
    }
    this.#send();
  }
}

function settle(queued: Queued, answer: SmallFileAnswer | undefined): void {
  if (answer === undefined) {
    queued.reject(
      new StorageError(ErrorCode.STORAGE_FAILED, "the server's file writer gave no answer"),
    );
  } else if (answer.ok) queued.resolve(answer.name);
  else if (answer.code === ErrorCode.BUSY)
    queued.reject(new RefusedError(answer.code, answer.message));
  else queued.reject(new StorageError(answer.code, answer.message));
}

function closing(): StorageError {
  return new StorageError(ErrorCode.STORAGE_FAILED, "the server is closing");
}

/**
 * The writer thread's URL: the compiled `small-file-worker.js` beside this module (in
 * `dist/`, or beside the bundled server, where the build puts a bundled copy); run from
 * the TypeScript sources (the test runner), the compiled one in `dist/`.
 */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts")
    ? new URL("../../../dist/transfer/server/small-file-worker.js", here)
    : new URL("./small-file-worker.js", here);
}

/**
 * Has a small file of known size held in memory and stored by `writer` rather than
 * written to a partial file as it arrives, when the writer's budget has room (or its
 * size was `reserved` already, with a batch's).
 */
export function keepSmallFileInMemory(
  item: InboundItem,
  writer: SmallFileWriter | null,
  reserved = false,
): void {
  const size = item.meta.size;
  if (writer === null || item.meta.kind !== "file" || size === null) return;
  if (!reserved && !writer.reserve(size)) return;
  const memory = writer.allocate(size);
  item.keepFileInMemory(memory, () => {
    writer.release(size, memory);
  });
}
