import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { DEFAULT_DICT_LIMITS } from "../codecs/limits.js";
import { MASTER_KEY_BYTES, SCRYPT_SALT_BYTES } from "../crypto/constants.js";
import { CryptoError, ErrorCode, InternalError, NetworkError } from "../errors.js";
import { encodeFrame, FRAME_HEADER_BYTES } from "../framing/frame.js";
import { FrameWriter } from "../framing/frame-writer.js";
import { FrameType, PROTOCOL_VERSION } from "../protocol/constants.js";
import { encodeError, encodeHello } from "../protocol/messages.js";
import { DictWorkerPool, type DictWorkerPoolStats } from "./server/dict-worker-pool.js";
import { ItemStore } from "./server/item-store.js";
import { SmallFileWriter } from "./server/small-file-writer.js";
import { openResumeState, type ResumeState } from "./server/resume-state.js";
import { countOpenFiles, readOpenFileLimit } from "./server/open-file-limit.js";
import {
  allowsPlaintext,
  PLAINTEXT_POLICIES,
  type PlaintextPolicy,
} from "./server/plaintext-policy.js";
import type { InboundProgress, ItemFailure, ReceivedItem } from "./server/received-item.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "./default-address.js";
import { ServerSession } from "./server/server-session.js";
import type { SessionContext } from "./server/session-context.js";
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_DICT_BUDGET_BYTES,
  DEFAULT_DICT_TIMEOUT_MS,
  DEFAULT_DICT_WORKER_HEAP_MB,
  DEFAULT_DICT_WORKERS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_INLINE_DICT_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MIN_PROGRESS_BYTES,
  DEFAULT_OPENING_TIMEOUT_MS,
  DEFAULT_PREVIEW_BYTES,
  DEFAULT_PROGRESS_WINDOW_MS,
  type ServerOptions,
} from "./server/server-options.js";
import { SOFTWARE_NAME } from "./software-name.js";

export * from "./server/server-options.js";

/** How long a dictionary worker waits for work before it exits, in ms. */
const DICT_WORKER_IDLE_MS = 2_000;
/** How long a refused client gets to read its ERROR before its socket is destroyed. */
const REFUSED_LINGER_MS = 1000;
/**
 * Descriptors a connection may need at once: its socket, and the file its item is
 * written to.
 */
const FILES_PER_CONNECTION = 2;
/**
 * Descriptors kept free beyond those open at start, for what the server opens besides
 * connections: a dictionary worker's event loop (a few each), directory syncs, the key
 * file, a refused connection's socket.
 */
const SPARE_FILES = 16;
const FILES_PER_DICT_WORKER = 8;

export interface DictLoad extends DictWorkerPoolStats {
  /** Bytes counted against the dictionary budget. */
  readonly heldBytes: number;
}

export interface ServerEvents {
  item: [item: ReceivedItem];
  /**
   * Bytes of an item arrived: emitted per chunk, and only built when someone listens.
   * The last one of an item comes before its `item` or `failure` event.
   */
  progress: [progress: InboundProgress];
  failure: [failure: ItemFailure];
  /**
   * A connection could not be accepted (the process is out of file descriptors: EMFILE,
   * ENFILE; out of memory...): a NetworkError CONNECT_FAILED whose `cause` is the system
   * error. The server keeps listening; such errors tend to come in storms, one per
   * connection attempt.
   */
  acceptError: [error: NetworkError];
  /** A listener of `item`, `failure` or `acceptError` threw; without an `error` listener this throws. */
  error: [error: unknown];
}

/**
 * A gb-transfer server. Create one with {@link GbServer.listen}; it emits `item` for
 * every item received and verified, and `failure` for every item or connection that
 * failed. No client can stop it: every error is confined to its own connection.
 */
export class GbServer extends EventEmitter<ServerEvents> {
  readonly #server: Server;
  readonly #sessions = new Set<ServerSession>();
  /** Sockets told BUSY or SHUTTING_DOWN, still closing. */
  readonly #refused = new Set<Socket>();
  readonly #context: SessionContext;
  readonly #maxConnections: number;
  readonly #plaintext: PlaintextPolicy;
  #connectionCount = 0;
  /** The process's limit on open files (`ulimit -n`), or null when unknown. */
  #openFileLimit: number | null = null;
  /**
   * Descriptors connections may use, all together, so that the server never runs out
   * (EMFILE) and can still say BUSY; null when the limit is unknown.
   */
  #connectionFiles: number | null = null;
  #dictBytesInFlight = 0;
  readonly #dictPool: DictWorkerPool;
  #closing: Promise<void> | undefined;

  private constructor(options: ServerOptions, store: ItemStore | null, resume: ResumeState | null) {
    super();
    if (options.masterKey.length !== MASTER_KEY_BYTES) {
      throw new CryptoError(ErrorCode.KEY_INVALID, `the key must be ${MASTER_KEY_BYTES} bytes`);
    }
    const plaintext = options.plaintext ?? "loopback";
    if (!PLAINTEXT_POLICIES.includes(plaintext)) {
      throw new InternalError(ErrorCode.INTERNAL, `unknown plaintext policy ${plaintext}`);
    }
    const masterKey = Buffer.from(options.masterKey);
    // Random even for a key-file server, so the announced salt never reveals which kind.
    const scryptSalt = Buffer.from(options.scryptSalt ?? randomBytes(SCRYPT_SALT_BYTES));
    const helloFrame = (accepts: readonly ("noise" | "plain")[]): Buffer =>
      encodeFrame(FrameType.HELLO, encodeHello({ server: SOFTWARE_NAME, scryptSalt, accepts }));
    this.#plaintext = plaintext;
    this.#maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const dictBudgetBytes = options.dictBudgetBytes ?? DEFAULT_DICT_BUDGET_BYTES;
    this.#dictPool = new DictWorkerPool({
      workers: options.dictWorkers ?? DEFAULT_DICT_WORKERS,
      heapMb: options.dictWorkerHeapMb ?? DEFAULT_DICT_WORKER_HEAP_MB,
      jobTimeoutMs: options.dictTimeoutMs ?? DEFAULT_DICT_TIMEOUT_MS,
      idleMs: DICT_WORKER_IDLE_MS,
    });
    this.#context = {
      helloFrames: {
        noiseOnly: helloFrame(["noise"]),
        noiseAndPlain: helloFrame(["noise", "plain"]),
      },
      masterKey,
      plaintext,
      store,
      smallFiles:
        store === null
          ? null
          : new SmallFileWriter(
              { saveDirectory: store.directory, durable: store.durable },
              options.smallFileBudgetBytes,
            ),
      resume,
      dictLimits: options.dictLimits ?? DEFAULT_DICT_LIMITS,
      previewBytes: options.previewBytes ?? DEFAULT_PREVIEW_BYTES,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      deadlines: {
        openingTimeoutMs: options.openingTimeoutMs ?? DEFAULT_OPENING_TIMEOUT_MS,
        progressWindowMs: options.progressWindowMs ?? DEFAULT_PROGRESS_WINDOW_MS,
        minProgressBytes: options.minProgressBytes ?? DEFAULT_MIN_PROGRESS_BYTES,
      },
      reserveDictBytes: (bytes) => {
        if (this.#dictBytesInFlight + bytes > dictBudgetBytes) return false;
        this.#dictBytesInFlight += bytes;
        return true;
      },
      holdDictBytes: (bytes) => {
        this.#dictBytesInFlight += bytes;
        return bytes;
      },
      releaseDictBytes: (bytes) => {
        this.#dictBytesInFlight -= bytes;
      },
      dictPool: this.#dictPool,
      inlineDictBytes: options.inlineDictBytes ?? DEFAULT_INLINE_DICT_BYTES,
      dictWants: {
        printable: options.dictPrintable ?? true,
        value: options.dictValues ?? false,
        jsonText: options.dictJsonText ?? false,
      },
      onItem: (item) => {
        this.#emitSafely(() => this.emit("item", item));
      },
      onProgress: (peer, item) => {
        if (this.listenerCount("progress") === 0) return;
        const progress: InboundProgress = {
          ...peer,
          id: item.id,
          name: item.meta.name,
          bytes: item.bytes,
          size: item.meta.size,
        };
        this.#emitSafely(() => this.emit("progress", progress));
      },
      onFailure: (failure) => {
        this.#emitSafely(() => this.emit("failure", failure));
      },
    };
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.#accept(socket);
    });
  }

  /**
   * Starts a server and resolves once it is listening.
   * @throws {NetworkError} CONNECT_FAILED when the address cannot be bound.
   * @throws {StorageError} STORAGE_FAILED when the save directory cannot be created.
   */
  static async listen(options: ServerOptions): Promise<GbServer> {
    let store: ItemStore | null = null;
    let resume: ResumeState | null = null;
    if (options.saveDir !== null) {
      store = new ItemStore(options.saveDir, options.durable ?? true);
      await store.init();
      resume = await openResumeState(store.directory, {
        maxBytes: options.resumeMaxBytes,
        expiryMs: options.resumeExpiryMs,
      });
    }
    const server = new GbServer(options, store, resume);
    const [limit, open] = await Promise.all([readOpenFileLimit(), countOpenFiles()]);
    server.#openFileLimit = limit;
    if (limit !== null && open !== null) {
      const workers = options.dictWorkers ?? DEFAULT_DICT_WORKERS;
      server.#connectionFiles = limit - open - SPARE_FILES - workers * FILES_PER_DICT_WORKER;
    }
    const host = options.host ?? DEFAULT_HOST;
    const port = options.port ?? DEFAULT_PORT;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new NetworkError(
            ErrorCode.CONNECT_FAILED,
            `cannot listen on ${host}:${port}: ${error.message}`,
            { cause: error },
          ),
        );
      };
      server.#server.once("error", onError);
      server.#server.listen({ host, port }, () => {
        server.#server.off("error", onError);
        resolve();
      });
    });
    // Once listening, every error of the listener is a failure to accept a connection.
    server.#server.on("error", (error) => {
      server.#onAcceptError(error);
    });
    return server;
  }

  /**
   * Emits to user listeners without letting a throwing listener reach (and fail) a
   * session: the error goes to `error` listeners, or is thrown from a fresh tick, which is
   * how Node treats an unhandled `error` event.
   */
  #emitSafely(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      if (this.listenerCount("error") > 0) this.emit("error", error);
      else
        process.nextTick(() => {
          throw error;
        });
    }
  }

  /** An accept error is reported, not fatal: the server keeps serving and listening. */
  #onAcceptError(cause: Error): void {
    const error = new NetworkError(
      ErrorCode.CONNECT_FAILED,
      `cannot accept a connection: ${cause.message}`,
      { cause },
    );
    this.#emitSafely(() => this.emit("acceptError", error));
  }

  /** The address actually bound (the real port when 0 was asked for). */
  address(): { host: string; port: number } {
    const address = this.#server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  /**
   * How many files this process may have open (`ulimit -n`), or null when the system does
   * not say (not Linux) or sets no limit.
   */
  get openFileLimit(): number | null {
    return this.#openFileLimit;
  }

  /**
   * Connections served at once: `maxConnections`, or fewer when the open-file limit would
   * not let that many each write a file (then more are told BUSY rather than the server
   * running out of descriptors).
   */
  get maxConnections(): number {
    const files = this.#connectionFiles;
    if (files === null) return this.#maxConnections;
    return Math.max(1, Math.min(this.#maxConnections, Math.floor(files / FILES_PER_CONNECTION)));
  }

  /** The directory items are saved in, or null. */
  get saveDir(): string | null {
    return this.#context.store?.directory ?? null;
  }

  /** Who may connect in the clear [H-POLICY]. */
  get plaintext(): PlaintextPolicy {
    return this.#plaintext;
  }

  /** Connections open right now. */
  get connections(): number {
    return this.#sessions.size;
  }

  /**
   * Received bytes all connections hold, not yet handled, and the buffers they are in
   * (a few per connection however its peer splits them [F-COALESCE]).
   */
  get readBuffers(): { readonly chunks: number; readonly bytes: number } {
    let chunks = 0;
    let bytes = 0;
    for (const session of this.#sessions) {
      const held = session.readBuffers;
      chunks += held.chunks;
      bytes += held.bytes;
    }
    return { chunks, bytes };
  }

  /** What the server holds for dictionaries right now. */
  get dictLoad(): DictLoad {
    return { ...this.#dictPool.stats, heldBytes: this.#dictBytesInFlight };
  }

  #accept(socket: Socket): void {
    this.#connectionCount++;
    const peer = {
      connectionId: this.#connectionCount,
      remote: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`,
    };
    if (this.#closing !== undefined || this.#sessions.size >= this.maxConnections) {
      // Out of descriptors to spare, even a refusal's linger is too much: close at once.
      const files = this.#connectionFiles;
      const inUse = this.#sessions.size * FILES_PER_CONNECTION + this.#refused.size;
      if (files !== null && inUse >= files + SPARE_FILES / 2) {
        socket.destroy();
        return;
      }
      this.#refused.add(socket);
      socket.once("close", () => this.#refused.delete(socket));
      const frames = this.#context.helloFrames;
      const hello = allowsPlaintext(this.#plaintext, socket.remoteAddress)
        ? frames.noiseAndPlain
        : frames.noiseOnly;
      refuse(socket, hello, this.#closing !== undefined);
      return;
    }
    const session = new ServerSession(socket, peer, this.#context);
    this.#sessions.add(session);
    void session.closed.then(() => this.#sessions.delete(session));
  }

  /**
   * Stops accepting connections, lets items in flight finish for up to `graceMs`,
   * then closes whatever is left (partial items are discarded, never stored).
   */
  close(graceMs: number = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  /**
   * Stops at once: stops listening and drops every connection; items in flight are
   * discarded, never stored. Resolves once their temporary files are removed.
   */
  async abort(): Promise<void> {
    this.#closing ??= this.#close(0);
    const sessions = [...this.#sessions];
    for (const session of sessions) session.destroy();
    for (const socket of this.#refused) socket.destroy();
    await Promise.all(sessions.map((session) => session.closed));
  }

  async #close(graceMs: number): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
    for (const session of this.#sessions) session.drain();
    const allClosed = Promise.all([...this.#sessions].map((session) => session.closed));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([allClosed, timedOut]);
    clearTimeout(timer);
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#refused) socket.destroy();
    await allClosed;
    await this.#dictPool.close();
    await this.#context.smallFiles?.close();
    this.#context.resume?.close();
    await listenerClosed;
  }
}

/** Tells a client we cannot serve it, in the protocol so it can say why, then closes. */
function refuse(socket: Socket, helloFrame: Buffer, shuttingDown: boolean): void {
  const writer = new FrameWriter(socket);
  socket.on("error", () => undefined);
  // Read (and drop) whatever the peer sends so its FIN is seen and the socket can close.
  socket.resume();
  writer.writePreamble(PROTOCOL_VERSION);
  writer.writeFrame(FrameType.HELLO, helloFrame.subarray(FRAME_HEADER_BYTES));
  writer.writeFrame(
    FrameType.ERROR,
    encodeError({
      code: shuttingDown ? ErrorCode.SHUTTING_DOWN : ErrorCode.BUSY,
      message: shuttingDown
        ? "the server is shutting down"
        : "the server is serving too many connections; try again later",
      id: undefined,
    }),
  );
  writer.end();
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}
