import { Worker } from "node:worker_threads";
import { CodecError, ErrorCode, InternalError, StorageError, type GbError } from "../../errors.js";
import { parseDictJobAnswer, type DictJob, type DictOutcome } from "./dict-job.js";

/** Settings of a {@link DictWorkerPool}. */
export interface DictWorkerPoolOptions {
  /** Workers running at once; jobs beyond them wait in order. */
  readonly workers: number;
  /**
   * The V8 heap each worker may use (old generation), in MiB. A dictionary that needs
   * more to decode and render fails with DICT_TOO_LARGE [V-DICT-WORK].
   */
  readonly heapMb: number;
  /** How long one dictionary may take, in ms, before it fails with DICT_TOO_LARGE. */
  readonly jobTimeoutMs: number;
  /**
   * How long a worker waits for its next job before it exits, in ms, giving back the
   * memory its last dictionary grew its heap to.
   */
  readonly idleMs: number;
}

/** Counters of a pool, for tests and diagnostics. */
export interface DictWorkerPoolStats {
  /** Workers alive now. */
  readonly workers: number;
  /** Jobs waiting for a worker. */
  readonly queued: number;
  /** Workers started since the pool was made. */
  readonly started: number;
  /** Workers ended for a dictionary over their limits (memory or time). */
  readonly overLimit: number;
}

/** The young generation of each worker, in MiB: enough for fast scavenges, no more. */
const YOUNG_GENERATION_MB = 16;
/** The stack of each worker, in MiB (the decoders recurse at most the depth limit). */
const STACK_MB = 4;

interface Pending {
  readonly job: DictJob;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (outcome: DictOutcome) => void;
  readonly reject: (error: GbError) => void;
}

/**
 * The worker of the moment: its URL is the compiled `dict-worker.js` beside this module
 * (in `dist/`, or beside the bundled server, where the build puts a bundled copy); run
 * from the TypeScript sources (the test runner), the compiled one in `dist/`.
 */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts")
    ? new URL("../../../dist/transfer/server/dict-worker.js", here)
    : new URL("./dict-worker.js", here);
}

/**
 * Decodes received dictionaries in worker threads, so that a large or hostile one costs
 * the server's event loop nothing and its memory no more than a worker's limits
 * [V-DICT-WORK]: each worker has a hard heap limit (`resourceLimits`) and each job a
 * time limit; a worker that passes either is ended, its job fails with DICT_TOO_LARGE,
 * and the next job gets a fresh worker. Idle workers exit, so that memory taken by a
 * burst goes back to the system.
 */
export class DictWorkerPool {
  readonly #options: DictWorkerPoolOptions;
  readonly #idle: PoolWorker[] = [];
  readonly #all = new Set<PoolWorker>();
  readonly #queue: Pending[] = [];
  #started = 0;
  #overLimit = 0;
  #closed = false;

  constructor(options: DictWorkerPoolOptions) {
    this.#options = options;
  }

  get stats(): DictWorkerPoolStats {
    return {
      workers: this.#all.size,
      queued: this.#queue.length,
      started: this.#started,
      overLimit: this.#overLimit,
    };
  }

  /**
   * Runs one job. Its bytes are moved to the worker (the caller's view is detached).
   * When `signal` aborts (the item's connection closed), a job still waiting leaves the
   * queue, and a running one ends its worker: nobody waits for its answer, and a client
   * must not be able to queue work and leave.
   * @throws {CodecError} DICT_INVALID, DICT_TOO_LARGE, DICT_TOO_DEEP (the promise rejects).
   * @throws {StorageError} STORAGE_FAILED when the stored text cannot be written.
   * @throws {InternalError} INTERNAL when the pool is closed, the job was cancelled, or a
   *   worker failed otherwise.
   */
  run(job: DictJob, signal?: AbortSignal): Promise<DictOutcome> {
    if (this.#closed) {
      return Promise.reject(new InternalError(ErrorCode.INTERNAL, "the server is closing"));
    }
    if (signal?.aborted === true) return Promise.reject(cancelled());
    return new Promise<DictOutcome>((resolve, reject) => {
      const pending: Pending = { job, signal, resolve, reject };
      this.#queue.push(pending);
      signal?.addEventListener(
        "abort",
        () => {
          const index = this.#queue.indexOf(pending);
          if (index >= 0) {
            this.#queue.splice(index, 1);
            reject(cancelled());
            return;
          }
          for (const worker of this.#all) worker.cancel(pending);
        },
        { once: true },
      );
      this.#dispatch();
    });
  }

  /** Ends every worker; jobs waiting or running fail with INTERNAL. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) {
      pending.reject(new InternalError(ErrorCode.INTERNAL, "the server is closing"));
    }
    await Promise.all([...this.#all].map((worker) => worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (worker === undefined) {
        if (this.#all.size >= this.#options.workers) return;
        worker = this.#spawn();
      }
      const pending = this.#queue.shift();
      if (pending === undefined) return;
      worker.start(pending);
    }
  }

  #spawn(): PoolWorker {
    this.#started++;
    const worker = new PoolWorker(this.#options, {
      onIdle: (idle) => {
        this.#idle.push(idle);
        this.#dispatch();
      },
      onExit: (gone, overLimit) => {
        if (overLimit) this.#overLimit++;
        this.#all.delete(gone);
        const index = this.#idle.indexOf(gone);
        if (index >= 0) this.#idle.splice(index, 1);
        if (!this.#closed) this.#dispatch();
      },
    });
    this.#all.add(worker);
    return worker;
  }
}

interface PoolWorkerEvents {
  onIdle(worker: PoolWorker): void;
  /** The worker has gone; `overLimit` when it was ended for its job's limits. */
  onExit(worker: PoolWorker, overLimit: boolean): void;
}

/** One worker thread and the job it runs. */
class PoolWorker {
  readonly #worker: Worker;
  readonly #options: DictWorkerPoolOptions;
  readonly #events: PoolWorkerEvents;
  #job: Pending | undefined;
  #jobTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Why the worker is being ended, when it is: its job fails with this. */
  #ending: GbError | undefined;
  #exited = false;

  constructor(options: DictWorkerPoolOptions, events: PoolWorkerEvents) {
    this.#options = options;
    this.#events = events;
    this.#worker = new Worker(workerUrl(), {
      resourceLimits: {
        maxOldGenerationSizeMb: options.heapMb,
        maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
        stackSizeMb: STACK_MB,
      },
    });
    // An idle worker must not keep a process alive that has nothing else to do.
    this.#worker.unref();
    this.#worker.on("message", (message: unknown) => {
      this.#onAnswer(message);
    });
    this.#worker.on("error", (error: Error) => {
      this.#ending ??= workerFailure(error, options);
    });
    this.#worker.on("exit", () => {
      this.#onExit();
    });
  }

  start(pending: Pending): void {
    clearTimeout(this.#idleTimer);
    this.#job = pending;
    this.#jobTimer = setTimeout(() => {
      this.#end(
        new CodecError(
          ErrorCode.DICT_TOO_LARGE,
          `the dictionary took more than ${this.#options.jobTimeoutMs / 1000} s to decode`,
        ),
      );
    }, this.#options.jobTimeoutMs);
    const { buffer, byteOffset, byteLength } = pending.job.bytes;
    // Moved, not copied, when the bytes are a buffer of their own.
    const transfer =
      buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength
        ? [buffer]
        : [];
    this.#worker.postMessage(pending.job, transfer);
  }

  /** Ends the worker if it is running `pending`, which fails as cancelled. */
  cancel(pending: Pending): void {
    if (this.#job === pending) this.#end(cancelled());
  }

  terminate(): Promise<void> {
    this.#ending ??= new InternalError(ErrorCode.INTERNAL, "the server is closing");
    return this.#worker.terminate().then(() => undefined);
  }

  #end(reason: GbError): void {
    this.#ending ??= reason;
    void this.#worker.terminate();
  }

  #onAnswer(message: unknown): void {
    const pending = this.#job;
    if (pending === undefined) return;
    clearTimeout(this.#jobTimer);
    this.#job = undefined;
    const answer = parseDictJobAnswer(message);
    if (answer === undefined) {
      pending.reject(new InternalError(ErrorCode.INTERNAL, "a dictionary worker gave no answer"));
    } else if (answer.ok) pending.resolve(answer.outcome);
    else pending.reject(errorOfCode(answer.failure.code, answer.failure.message));
    this.#idleTimer = setTimeout(() => {
      this.#end(new InternalError(ErrorCode.INTERNAL, "idle"));
    }, this.#options.idleMs);
    this.#idleTimer.unref();
    this.#events.onIdle(this);
  }

  #onExit(): void {
    if (this.#exited) return;
    this.#exited = true;
    clearTimeout(this.#jobTimer);
    clearTimeout(this.#idleTimer);
    const pending = this.#job;
    this.#job = undefined;
    const reason =
      this.#ending ?? new InternalError(ErrorCode.INTERNAL, "a dictionary worker stopped");
    pending?.reject(reason);
    this.#events.onExit(this, pending !== undefined && reason.code === ErrorCode.DICT_TOO_LARGE);
  }
}

function cancelled(): InternalError {
  return new InternalError(ErrorCode.INTERNAL, "the item ended before its dictionary was decoded");
}

/** What a worker's own failure means for its job. */
function workerFailure(error: Error, options: DictWorkerPoolOptions): GbError {
  if ("code" in error && error.code === "ERR_WORKER_OUT_OF_MEMORY") {
    return new CodecError(
      ErrorCode.DICT_TOO_LARGE,
      `decoding the dictionary needs more than the ${options.heapMb} MiB of memory the server gives one`,
      { cause: error },
    );
  }
  return new InternalError(ErrorCode.INTERNAL, `a dictionary worker failed: ${error.message}`, {
    cause: error,
  });
}

/** The error a worker reported, as the class that owns its code. */
function errorOfCode(code: ErrorCode, message: string): GbError {
  switch (code) {
    case ErrorCode.DICT_INVALID:
    case ErrorCode.DICT_TOO_LARGE:
    case ErrorCode.DICT_TOO_DEEP:
      return new CodecError(code, message);
    case ErrorCode.STORAGE_FAILED:
      return new StorageError(code, `cannot store the dictionary: ${message}`);
    default:
      return new InternalError(ErrorCode.INTERNAL, `a dictionary worker failed: ${message}`);
  }
}
