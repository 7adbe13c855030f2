import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { encodeDict, encodeJsonDictText, type DictFormat } from "../codecs/dict-format.js";
import type { DictObject } from "../codecs/dict-value.js";
import type { JsonObject } from "../codecs/json-value.js";
import { ChunkSealer } from "../crypto/chunk-sealer.js";
import { CHUNK_PLAINTEXT_BYTES } from "../crypto/constants.js";
import { deriveItemKeys, newItemSalt, type ItemKeys } from "../crypto/item-keys.js";
import { keyId } from "../crypto/key-id.js";
import { deriveKeyFromPassphrase } from "../crypto/passphrase.js";
import { openOnce, sealOnce } from "../crypto/seal-once.js";
import { sha256Hex } from "../crypto/sha256-hex.js";
import {
  CryptoError,
  ErrorCode,
  GbError,
  InputError,
  IntegrityError,
  NetworkError,
  ProtocolError,
  errorFromPeer,
  toGbError,
} from "../errors.js";
import { FrameParser } from "../framing/frame-parser.js";
import { FrameWriter } from "../framing/frame-writer.js";
import { FrameType, PROTOCOL_VERSION, SERVER_FRAME_LIMITS } from "../protocol/constants.js";
import {
  decodeError,
  decodeHello,
  decodeReceipt,
  decodeReceiptBody,
  itemHeaderText,
  encodeMeta,
  type Hello,
  type ItemMeta,
  type ReceiptBody,
} from "../protocol/messages.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "./default-address.js";
import { PooledFileReader } from "./pooled-file-reader.js";
import { SendQueue } from "./send-queue.js";

/** How long to wait for the TCP connection and the server's HELLO. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** A connection on which the server says nothing for this long, while we wait, fails. */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;
/**
 * How long {@link GbClient.close} waits for the server to close the connection after
 * our end of it is closed; then the socket is destroyed.
 */
export const CLOSE_TIMEOUT_MS = 5_000;
/** Bytes queued on the socket before the sender waits for it to drain. */
const SOCKET_WRITE_BUFFER_BYTES = 1024 * 1024;

/** Where the encryption key comes from: the key itself, or a passphrase (scrypt). */
export type KeySource = { readonly key: Uint8Array } | { readonly passphrase: string };

export interface ClientOptions {
  readonly host?: string;
  readonly port?: number;
  /** Needed to send encrypted items; checked against the server's key on connect. */
  readonly encryption?: KeySource;
  readonly connectTimeoutMs?: number;
  readonly responseTimeoutMs?: number;
  /** Bound on how long {@link GbClient.close} waits for the server to close; default {@link CLOSE_TIMEOUT_MS}. */
  readonly closeTimeoutMs?: number;
}

/** Options common to every item. */
export interface ItemOptions {
  /** Encrypt this item (requires {@link ClientOptions.encryption}). */
  readonly encrypt?: boolean;
  /** Called as plaintext bytes go out, with the running total. */
  readonly onProgress?: (bytesSent: number) => void;
}

export interface DictItemOptions extends ItemOptions {
  readonly format: DictFormat;
  /** Name the server stores it under (as `<name>.json`); default "dictionary.json". */
  readonly name?: string;
}

export interface StreamItemOptions extends ItemOptions {
  readonly name: string;
  /** Exact byte count when known; the server then checks it. null when unknown. */
  readonly size: number | null;
}

/** A stored item: what we sent, and the server's receipt, which matched it. */
export interface SentItem {
  readonly id: number;
  readonly kind: "dict" | "file";
  readonly name: string;
  readonly encrypted: boolean;
  readonly bytes: number;
  readonly sha256: string;
  readonly receipt: ReceiptBody;
}

/** An item ready to go out: its metadata and the source of its bytes. */
interface PreparedItem {
  readonly meta: ItemMeta;
  readonly source: AsyncIterable<Uint8Array>;
}

/**
 * An item, from the call that sends it until its receipt (or failure) settles it. It
 * gets its wire id and keys when its turn to go out comes ({@link GbClient} #openSlot).
 */
class Slot {
  id = 0;
  readonly meta: ItemMeta;
  keys: ItemKeys | undefined;
  salt: Buffer | undefined;
  bytes = 0;
  sha256: string | undefined;
  /** The server refused the item while we were still sending it. */
  aborted = false;
  settled = false;
  /**
   * Aborted when the item fails (refused, or the connection failed): stops reading its
   * source. Made only for stream sources; a dictionary is already in memory.
   */
  stopReading: AbortController | undefined;
  /**
   * The caller's promise, when it is marked handled only if it fails (see {@link reject}):
   * cheaper, per pipelined dictionary, than a handler attached to every promise.
   */
  promise: Promise<SentItem> | undefined;
  readonly #resolve: (item: SentItem) => void;
  readonly #reject: (error: GbError) => void;
  readonly #onSettled: (slot: Slot) => void;

  constructor(
    meta: ItemMeta,
    resolve: (item: SentItem) => void,
    reject: (error: GbError) => void,
    onSettled: (slot: Slot) => void,
  ) {
    this.meta = meta;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onSettled = onSettled;
  }

  resolve(item: SentItem): void {
    this.settled = true;
    this.#onSettled(this);
    this.#resolve(item);
  }

  reject(error: GbError): void {
    this.settled = true;
    this.aborted = true;
    this.#onSettled(this);
    // Stop waiting on the source at once, even if it is stalled mid-read.
    this.stopReading?.abort();
    if (this.promise !== undefined) void handled(this.promise);
    this.#reject(error);
  }
}

/**
 * A connection to a gb-transfer server. Items are sent in the order they are given
 * and pipelined: the next item goes out while earlier receipts are still on their way.
 * Each `send*` promise resolves when the server's receipt arrived and matched what was
 * sent, and rejects with a {@link GbError} otherwise.
 */
export class GbClient {
  readonly hello: Hello;
  readonly #socket: Socket;
  readonly #parser: FrameParser;
  readonly #writer: FrameWriter;
  readonly #masterKey: Buffer | undefined;
  readonly #slots = new Map<number, Slot>();
  /** Called when the last item awaiting its receipt settles (see {@link close}). */
  #onAllSettled: (() => void) | undefined;
  #nextId = 1;
  /** Items waiting for their turn to be written, in call order. */
  readonly #queue: SendQueue;
  #fatal: GbError | undefined;
  /**
   * The server closed the connection while nothing was in flight (the usual end, after
   * {@link close}): the error that later sends fail with is made only if one is sent.
   */
  #closedQuietly = false;
  readonly #closed: Promise<void>;
  readonly #closeTimeoutMs: number;

  private constructor(
    socket: Socket,
    parser: FrameParser,
    writer: FrameWriter,
    hello: Hello,
    masterKey: Buffer | undefined,
    timeouts: { readonly responseMs: number; readonly closeMs: number },
    guard: EarlyErrorGuard,
  ) {
    this.#socket = socket;
    this.#parser = parser;
    this.#writer = writer;
    this.#queue = new SendQueue(
      { full: () => socket.writableNeedDrain, drain: () => writer.drain() },
      (error) => {
        this.#fail(toGbError(error, "sending failed"));
      },
    );
    this.hello = hello;
    this.#masterKey = masterKey;
    this.#closeTimeoutMs = timeouts.closeMs;
    const responseTimeoutMs = timeouts.responseMs;
    // The socket may have closed already, while the key was being derived: then no
    // "close" event is coming, and `socket.closed` says so.
    this.#closed = socket.closed
      ? Promise.resolve()
      : new Promise((resolve) =>
          socket.once("close", () => {
            resolve();
          }),
        );
    socket.on("data", (chunk: Buffer) => {
      this.#parser.push(chunk);
      this.#readUnits();
    });
    socket.on("error", (error) => {
      this.#fail(
        new NetworkError(ErrorCode.CONNECTION_LOST, `connection lost: ${error.message}`, {
          cause: error,
        }),
      );
    });
    socket.on("close", () => {
      // An error object (with its stack) per connection is measurable for one-shot
      // clients; with nothing in flight nobody would see it.
      if (this.#slots.size === 0 && this.#queue.idleNow) this.#closedQuietly = true;
      else {
        this.#fail(new NetworkError(ErrorCode.CONNECTION_LOST, "the server closed the connection"));
      }
    });
    socket.setTimeout(responseTimeoutMs);
    socket.resume();
    socket.on("timeout", () => {
      if (this.#slots.size === 0) return;
      this.#fail(new NetworkError(ErrorCode.TIMEOUT, "the server stopped responding"));
      socket.destroy();
    });
    // Our own "error" listener is on: the one that kept errors from going unhandled
    // since the handshake can go.
    guard.release();
    // Units that arrived together with HELLO (a BUSY refusal, say).
    this.#readUnits();
    // The connection failed between HELLO and now (while the key was being derived).
    if (socket.destroyed || guard.error !== undefined) {
      const early = guard.error;
      this.#fail(
        early === undefined
          ? new NetworkError(ErrorCode.CONNECTION_LOST, "the server closed the connection")
          : new NetworkError(ErrorCode.CONNECTION_LOST, `connection lost: ${early.message}`, {
              cause: early,
            }),
      );
      socket.destroy();
    }
  }

  /**
   * Connects, waits for the server's HELLO and, when a key is given, checks that the
   * server holds the same key (without sending it).
   * @throws {NetworkError} CONNECT_FAILED / TIMEOUT
   * @throws {ProtocolError} BAD_PREAMBLE / UNSUPPORTED_VERSION when the peer is not a gb-transfer server
   * @throws {CryptoError} KEY_MISMATCH / KEY_INVALID
   */
  static async connect(options: ClientOptions = {}): Promise<GbClient> {
    const host = options.host ?? DEFAULT_HOST;
    const port = options.port ?? DEFAULT_PORT;
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // Node passes stream options through to the socket; @types/node does not list them.
    const connectOptions = {
      host,
      port,
      noDelay: true,
      writableHighWaterMark: SOCKET_WRITE_BUFFER_BYTES,
    };
    const socket = netConnect(connectOptions);
    // From here until the client object has its own listener, a socket error must never
    // go unhandled (it would crash the process): between HELLO and the constructor,
    // deriving a key from a passphrase takes a while.
    const guard = new EarlyErrorGuard(socket);
    const parser = new FrameParser(SERVER_FRAME_LIMITS, { expectPreamble: true });
    const writer = new FrameWriter(socket);
    let hello: Hello;
    try {
      // Deriving a key from a passphrase takes a while after HELLO: the socket is paused
      // meanwhile. Otherwise the client object takes over in this turn, as it is.
      const pause = options.encryption !== undefined && "passphrase" in options.encryption;
      hello = await handshake(socket, writer, parser, { host, port, timeoutMs, pause });
    } catch (error) {
      writer.flush();
      socket.destroy();
      throw error;
    }
    let masterKey: Buffer | undefined;
    if (options.encryption !== undefined) {
      try {
        masterKey =
          "key" in options.encryption
            ? Buffer.from(options.encryption.key)
            : await deriveKeyFromPassphrase(options.encryption.passphrase, hello.scryptSalt);
        if (!keyId(masterKey).equals(hello.keyId)) {
          throw new CryptoError(
            ErrorCode.KEY_MISMATCH,
            "the server holds a different key than this client",
          );
        }
      } catch (error) {
        // The held-back preamble goes first, so the server sees a clean goodbye.
        writer.flush();
        socket.destroy();
        throw error;
      }
    }
    return new GbClient(
      socket,
      parser,
      writer,
      hello,
      masterKey,
      {
        responseMs: options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
        closeMs: options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS,
      },
      guard,
    );
  }

  /**
   * Sends a dictionary serialized in `options.format`: exact (a `DictObject`) or plain (a
   * `JsonObject`, converted as `toDictObject` does). It is serialized now, so later
   * changes to `value` do not affect what is sent. A dictionary that cannot be encoded
   * rejects with a CodecError and sends nothing.
   */
  sendDict(value: DictObject | JsonObject, options: DictItemOptions): Promise<SentItem> {
    // A small JSON dictionary stays text until it is encoded straight into the frame.
    let payload: Uint8Array | string;
    let size: number;
    try {
      this.#checkCanEncrypt(options);
      if (options.format === "json") {
        payload = encodeJsonDictText(value);
        size = Buffer.byteLength(payload, "utf8");
      } else {
        payload = encodeDict(value, options.format);
        size = payload.length;
      }
    } catch (error) {
      return handled(Promise.reject(toGbError(error, "cannot prepare the item")));
    }
    const meta: ItemMeta = {
      kind: "dict",
      format: options.format,
      name: options.name ?? "dictionary.json",
      size,
    };
    let slot!: Slot;
    const promise = new Promise<SentItem>((resolve, reject) => {
      slot = new Slot(meta, resolve, reject, this.#forgetSlot);
    });
    slot.promise = promise;
    this.#queue.push(() => {
      if (this.#openSlot(slot, options)) this.#writeWhole(slot, payload, options.onProgress);
      return undefined;
    });
    return promise;
  }

  /**
   * Sends the file at `filePath` under its base name. A file that is missing or not a
   * regular file rejects with InputError INPUT_UNREADABLE and sends nothing.
   */
  sendFile(filePath: string, options: ItemOptions & { name?: string } = {}): Promise<SentItem> {
    return this.#send(async () => {
      let size: number;
      try {
        const info = await stat(filePath);
        if (!info.isFile()) {
          throw new InputError(ErrorCode.INPUT_UNREADABLE, `${filePath} is not a regular file`);
        }
        size = info.size;
      } catch (error) {
        if (error instanceof GbError) throw error;
        throw new InputError(
          ErrorCode.INPUT_UNREADABLE,
          `cannot read ${filePath}: ${describe(error)}`,
          { cause: error },
        );
      }
      const meta: ItemMeta = { kind: "file", name: options.name ?? path.basename(filePath), size };
      return {
        meta,
        source: new PooledFileReader(filePath),
      };
    }, options);
  }

  /** Sends bytes from any async iterable (a readable stream, stdin) as a file item. */
  sendStream(source: AsyncIterable<Uint8Array>, options: StreamItemOptions): Promise<SentItem> {
    const meta: ItemMeta = { kind: "file", name: options.name, size: options.size };
    return this.#send(() => ({ meta, source }), options);
  }

  /**
   * Waits for every receipt, then closes the connection cleanly.
   * Items still in flight settle first (their promises report their own outcome).
   * A server that does not close its side within the close timeout is cut off.
   */
  async close(): Promise<void> {
    await this.#queue.idle();
    if (this.#slots.size > 0) {
      await new Promise<void>((resolve) => {
        this.#onAllSettled = resolve;
      });
    }
    if (!this.#socket.destroyed) this.#writer.end();
    const timer = setTimeout(() => {
      this.#socket.destroy();
    }, this.#closeTimeoutMs);
    try {
      await this.#closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the connection at once; items in flight fail with CONNECTION_LOST. */
  destroy(): void {
    // A held-back preamble goes first, so the server sees a client that left, not garbage.
    this.#writer.flush();
    this.#socket.destroy();
  }

  /**
   * Queues a streamed item. Its place in the send order is taken now, synchronously, so
   * items go out in call order; `prepare` (reading metadata, opening the source) runs
   * when its turn comes, and the wire id is assigned only once the item really goes out.
   */
  #send(
    prepare: () => PreparedItem | Promise<PreparedItem>,
    options: ItemOptions,
  ): Promise<SentItem> {
    return handled(
      new Promise<SentItem>((resolve, reject) => {
        this.#queue.push(async () => {
          let prepared: PreparedItem;
          try {
            this.#checkCanEncrypt(options);
            prepared = await prepare();
          } catch (error) {
            reject(toGbError(error, "cannot prepare the item"));
            return;
          }
          const slot = new Slot(prepared.meta, resolve, reject, this.#forgetSlot);
          if (this.#openSlot(slot, options)) {
            await this.#writeItem(slot, prepared.source, options.onProgress);
          } else {
            closeSource(prepared.source);
          }
        });
      }),
    );
  }

  /** @throws {CryptoError} KEY_MISSING when encryption is asked for without a key. */
  #checkCanEncrypt(options: ItemOptions): void {
    if (options.encrypt === true && this.#masterKey === undefined) {
      throw new CryptoError(
        ErrorCode.KEY_MISSING,
        "encryption was asked for but the client has no key",
      );
    }
  }

  /**
   * Gives an item its keys and wire id, and tracks it until its receipt settles it.
   * Returns false, the item failed, when its keys could not be made.
   */
  #openSlot(slot: Slot, options: ItemOptions): boolean {
    if (options.encrypt === true) {
      try {
        slot.salt = newItemSalt();
        if (this.#masterKey !== undefined) slot.keys = deriveItemKeys(this.#masterKey, slot.salt);
      } catch (error) {
        slot.reject(toGbError(error, "cannot make the item's keys"));
        return false;
      }
    }
    slot.id = this.#nextId++;
    this.#slots.set(slot.id, slot);
    return true;
  }

  readonly #forgetSlot = (slot: Slot): void => {
    this.#slots.delete(slot.id);
    if (this.#slots.size === 0 && this.#onAllSettled !== undefined) {
      const onAllSettled = this.#onAllSettled;
      this.#onAllSettled = undefined;
      onAllSettled();
    }
  };

  /** Writes the ITEM frame; returns the sealer of the item's chunks when it is encrypted. */
  #writeHeader(slot: Slot): ChunkSealer | undefined {
    const keys = slot.keys;
    const header =
      keys === undefined || slot.salt === undefined
        ? itemHeaderText({ id: slot.id, encrypted: false, meta: slot.meta })
        : itemHeaderText({
            id: slot.id,
            encrypted: true,
            salt: slot.salt,
            sealedMeta: sealOnce(keys.metaKey, encodeMeta(slot.meta)),
          });
    this.#writer.writeTextFrame(FrameType.ITEM, header);
    return keys === undefined ? undefined : new ChunkSealer(keys.payloadKey, keys.baseNonce);
  }

  /**
   * Writes a whole item held in memory (a dictionary) at once: its bytes are already
   * in memory, so the frames only take views of them.
   */
  #writeWhole(
    slot: Slot,
    payload: Uint8Array | string,
    onProgress: ((bytesSent: number) => void) | undefined,
  ): void {
    const fatal = this.#failure();
    if (fatal !== undefined) {
      slot.reject(fatal);
      return;
    }
    const sealer = this.#writeHeader(slot);
    slot.bytes = slot.meta.size ?? 0;
    slot.sha256 = sha256Hex(payload);
    if (
      typeof payload === "string" &&
      sealer === undefined &&
      slot.bytes <= CHUNK_PLAINTEXT_BYTES
    ) {
      this.#writer.writeTextFrame(FrameType.LAST_CHUNK, payload);
      onProgress?.(slot.bytes);
      return;
    }
    const bytes = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
    // [F-LAST] the last chunk may be empty (an empty dictionary cannot be, but bytes may).
    for (let offset = 0; ; offset += CHUNK_PLAINTEXT_BYTES) {
      const chunk = bytes.subarray(offset, offset + CHUNK_PLAINTEXT_BYTES);
      const last = offset + CHUNK_PLAINTEXT_BYTES >= bytes.length;
      const type = last ? FrameType.LAST_CHUNK : FrameType.CHUNK;
      if (sealer === undefined) this.#writer.writeFrame(type, chunk);
      else this.#writer.writeFrame(type, ...sealer.seal(chunk, last));
      if (last) break;
    }
    onProgress?.(slot.bytes);
  }

  async #writeItem(
    slot: Slot,
    source: AsyncIterable<Uint8Array>,
    onProgress: ((bytesSent: number) => void) | undefined,
  ): Promise<void> {
    const fatal = this.#failure();
    if (fatal !== undefined) {
      slot.reject(fatal);
      closeSource(source);
      return;
    }
    const sealer = this.#writeHeader(slot);
    const hash = createHash("sha256");
    // A pooled file's read buffers are given back once their last chunk is out.
    const reader = source instanceof PooledFileReader ? source : undefined;
    /** `done` is the piece `plaintext` ends, when nothing else refers to it after this. */
    const sendChunk = async (
      plaintext: Uint8Array,
      last: boolean,
      done: Uint8Array | undefined,
    ): Promise<void> => {
      hash.update(plaintext);
      slot.bytes += plaintext.length;
      if (last) slot.sha256 = hash.digest("hex");
      const type = last ? FrameType.LAST_CHUNK : FrameType.CHUNK;
      let ok: boolean;
      if (sealer !== undefined) {
        ok = this.#writer.writeFrame(type, ...sealer.seal(plaintext, last));
        if (done !== undefined) reader?.recycle(done);
      } else if (done !== undefined && reader !== undefined) {
        ok = this.#writer.writeFrameThen(type, plaintext, () => {
          reader.recycle(done);
        });
      } else {
        ok = this.#writer.writeFrame(type, plaintext);
      }
      onProgress?.(slot.bytes);
      if (!ok) await this.#writer.drain();
    };
    let held: Uint8Array | undefined;
    let heldEnds: Uint8Array | undefined;
    // The source is read until it ends or the item is given up.
    const stop = (slot.stopReading = new AbortController());
    const pieces = readUntilAborted(source, stop.signal);
    try {
      outer: for await (const piece of pieces) {
        if (piece.length === 0) reader?.recycle(piece);
        for (let offset = 0; offset < piece.length; offset += CHUNK_PLAINTEXT_BYTES) {
          if (slot.aborted || this.#failure() !== undefined) break outer;
          if (held !== undefined) await sendChunk(held, false, heldEnds);
          held = piece.subarray(offset, offset + CHUNK_PLAINTEXT_BYTES);
          heldEnds = offset + CHUNK_PLAINTEXT_BYTES >= piece.length ? piece : undefined;
        }
      }
    } catch (error) {
      // A source that ended because we stopped reading it is not an input error.
      if (!stop.signal.aborted) {
        this.#failInput(slot, error);
        return;
      }
    } finally {
      closeSource(source);
    }
    const failure = this.#failure();
    if (failure !== undefined) {
      if (!slot.settled) slot.reject(failure);
      return;
    }
    // [F-LAST] every item ends with exactly one LAST_CHUNK, even one the server refused.
    await sendChunk(
      slot.aborted ? new Uint8Array(0) : (held ?? new Uint8Array(0)),
      true,
      undefined,
    ).catch((error: unknown) => {
      this.#fail(toGbError(error, "sending failed"));
    });
  }

  /** The item's source failed mid-item. */
  #failInput(slot: Slot, error: unknown): void {
    const failure =
      error instanceof GbError
        ? error
        : new InputError(
            ErrorCode.INPUT_UNREADABLE,
            `cannot read ${slot.meta.name}: ${describe(error)}`,
            { cause: error },
          );
    // The protocol has no way to cancel an item half-sent, and the server must never
    // store it: end the connection, which makes the server discard it.
    slot.reject(failure);
    this.#fail(failure);
    // What was written so far goes out first, so the server sees the item cut short.
    this.#writer.flush();
    this.#socket.destroy();
  }

  #readUnits(): void {
    for (;;) {
      let unit;
      try {
        unit = this.#parser.next();
      } catch (error) {
        this.#fail(toGbError(error, "bad data from the server"));
        this.#socket.destroy();
        return;
      }
      if (unit === undefined) return;
      if (unit.kind === "preamble") continue;
      try {
        this.#onFrame(unit.frame.type, unit.frame.payload);
      } catch (error) {
        this.#fail(toGbError(error, "bad data from the server"));
        this.#socket.destroy();
        return;
      }
    }
  }

  #onFrame(type: number, payload: Buffer): void {
    if (type === FrameType.RECEIPT) {
      const message = decodeReceipt(payload);
      const slot = this.#slots.get(message.id);
      if (slot === undefined) {
        throw new ProtocolError(
          ErrorCode.UNEXPECTED_FRAME,
          `a receipt for unknown item ${message.id}`,
        );
      }
      let body: ReceiptBody;
      if (message.encrypted) {
        if (slot.keys === undefined) {
          throw new ProtocolError(
            ErrorCode.MALFORMED_MESSAGE,
            "a sealed receipt for a plaintext item",
          );
        }
        try {
          body = decodeReceiptBody(openOnce(slot.keys.receiptKey, message.sealedReceipt));
        } catch (error) {
          slot.reject(
            new IntegrityError(
              ErrorCode.INTEGRITY_MISMATCH,
              "the sealed receipt is not authentic",
              { cause: error },
            ),
          );
          return;
        }
      } else {
        if (slot.keys !== undefined) {
          throw new ProtocolError(
            ErrorCode.MALFORMED_MESSAGE,
            "an unsealed receipt for an encrypted item",
          );
        }
        body = message.receipt;
      }
      this.#settleReceipt(slot, body);
      return;
    }
    if (type === FrameType.ERROR) {
      const message = decodeError(payload);
      const what =
        message.id === undefined
          ? "the connection"
          : (this.#slots.get(message.id)?.meta.name ?? `item ${message.id}`);
      const error = errorFromPeer(
        message.code,
        `the server refused ${what}: ${message.message}`,
        message.id,
      );
      if (message.id === undefined) {
        this.#fail(error);
        return;
      }
      const slot = this.#slots.get(message.id);
      if (slot === undefined) {
        throw new ProtocolError(
          ErrorCode.UNEXPECTED_FRAME,
          `an error for unknown item ${message.id}`,
        );
      }
      slot.reject(error);
      return;
    }
    throw new ProtocolError(
      ErrorCode.UNEXPECTED_FRAME,
      `unexpected frame type ${type} from the server`,
    );
  }

  #settleReceipt(slot: Slot, body: ReceiptBody): void {
    if (slot.sha256 === undefined) {
      throw new ProtocolError(
        ErrorCode.UNEXPECTED_FRAME,
        `a receipt for item ${slot.id} before it was sent`,
      );
    }
    if (body.bytes !== slot.bytes || body.sha256 !== slot.sha256 || body.kind !== slot.meta.kind) {
      slot.reject(
        new IntegrityError(
          ErrorCode.INTEGRITY_MISMATCH,
          `the server's receipt for ${slot.meta.name} does not match what was sent ` +
            `(sent ${slot.bytes} bytes, sha256 ${slot.sha256}; receipt says ${body.bytes} bytes, sha256 ${body.sha256})`,
        ),
      );
      return;
    }
    // The result outlives the receipt it was read from: it shares our own copies of the
    // strings the receipt repeats, and the receipt's own go with it.
    const name = body.name === slot.meta.name ? slot.meta.name : body.name;
    slot.resolve({
      id: slot.id,
      kind: slot.meta.kind,
      name: slot.meta.name,
      encrypted: slot.keys !== undefined,
      bytes: slot.bytes,
      sha256: slot.sha256,
      receipt: {
        kind: slot.meta.kind,
        name,
        bytes: body.bytes,
        sha256: slot.sha256,
        savedAs: body.savedAs,
      },
    });
  }

  /** The connection-wide failure, if any (read through a method: it changes across awaits). */
  #failure(): GbError | undefined {
    if (this.#fatal === undefined && this.#closedQuietly) {
      this.#fatal = new NetworkError(ErrorCode.CONNECTION_LOST, "the server closed the connection");
    }
    return this.#fatal;
  }

  /** A connection-wide failure: every item not yet settled fails with it. */
  #fail(error: GbError): void {
    this.#fatal ??= error;
    for (const slot of [...this.#slots.values()]) slot.reject(this.#fatal);
  }
}

/** Connects and reads the server's preamble and HELLO (pausing the socket when asked). */
async function handshake(
  socket: Socket,
  writer: FrameWriter,
  parser: FrameParser,
  settings: { host: string; port: number; timeoutMs: number; pause: boolean },
): Promise<Hello> {
  const { host, port, timeoutMs } = settings;
  return new Promise<Hello>((resolve, reject) => {
    const timer = setTimeout(() => {
      finish(
        new NetworkError(
          ErrorCode.TIMEOUT,
          `no answer from ${host}:${port} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const finish = (outcome: Hello | GbError): void => {
      clearTimeout(timer);
      // Paused until the client object takes over, so no byte after HELLO is lost while
      // a key is derived. (With no wait in between, the object takes over before the
      // next read, and pausing would only cost two system calls.)
      if (settings.pause) socket.pause();
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      socket.off("connect", onConnect);
      if (outcome instanceof GbError) reject(outcome);
      else resolve(outcome);
    };
    const onConnect = (): void => {
      // Held back until the first frame: one packet less per connection.
      writer.holdPreamble(PROTOCOL_VERSION);
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      finish(
        new NetworkError(
          ErrorCode.CONNECT_FAILED,
          `cannot connect to ${host}:${port}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    const onClose = (): void => {
      finish(
        new NetworkError(
          ErrorCode.CONNECT_FAILED,
          `${host}:${port} closed the connection before greeting`,
        ),
      );
    };
    const onData = (chunk: Buffer): void => {
      parser.push(chunk);
      try {
        for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
          if (unit.kind === "preamble") {
            if (unit.version !== PROTOCOL_VERSION) {
              throw new ProtocolError(
                ErrorCode.UNSUPPORTED_VERSION,
                `the server speaks protocol version ${unit.version}; this client speaks ${PROTOCOL_VERSION}`,
              );
            }
            continue;
          }
          if (unit.frame.type === FrameType.ERROR) {
            const message = decodeError(unit.frame.payload);
            throw errorFromPeer(
              message.code,
              `the server refused the connection: ${message.message}`,
              undefined,
            );
          }
          if (unit.frame.type !== FrameType.HELLO) {
            throw new ProtocolError(
              ErrorCode.UNEXPECTED_FRAME,
              "the server did not send HELLO first",
            );
          }
          finish(decodeHello(unit.frame.payload));
          return;
        }
      } catch (error) {
        finish(toGbError(error, "handshake failed"));
      }
    };
    socket.once("connect", onConnect);
    socket.on("data", onData);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

/**
 * Keeps an "error" listener on the socket from connecting until the client object has
 * its own, so that an error in between (the server resetting the connection while a
 * key is derived) is remembered instead of crashing the process as an unhandled event.
 */
class EarlyErrorGuard {
  /** The first socket error seen, if any. */
  error: Error | undefined;
  readonly #socket: Socket;
  readonly #onError = (error: Error): void => {
    this.error ??= error;
  };

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("error", this.#onError);
  }

  /** Call once another "error" listener is attached. */
  release(): void {
    this.#socket.off("error", this.#onError);
  }
}

/**
 * Iterates `source` until it ends or `signal` aborts. An abort ends the iteration at
 * once, even while a read is pending on a stalled source (stdin, `tail -f`); the
 * pending read's outcome is then ignored, and the source is asked to stop.
 */
async function* readUntilAborted(
  source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (!(Symbol.asyncIterator in source)) {
    for (const piece of source) {
      if (signal.aborted) return;
      yield piece;
    }
    return;
  }
  const iterator = source[Symbol.asyncIterator]();
  /** True once the iterator finished by itself (ended or threw). */
  let finished = false;
  try {
    for (;;) {
      if (signal.aborted) return;
      const next = iterator.next();
      const result = await new Promise<IteratorResult<Uint8Array> | undefined>(
        (resolve, reject) => {
          const onAbort = (): void => {
            resolve(undefined);
          };
          signal.addEventListener("abort", onAbort, { once: true });
          next.then(
            (value) => {
              signal.removeEventListener("abort", onAbort);
              resolve(value);
            },
            (error: unknown) => {
              signal.removeEventListener("abort", onAbort);
              finished = true;
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          );
        },
      );
      if (result === undefined) {
        // Aborted: the pending read may still fail (we destroy the source); that is ours.
        next.catch(() => undefined);
        return;
      }
      if (result.done === true) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (!finished && iterator.return !== undefined) {
      // Not awaited: on a stalled source it would wait for the pending read.
      Promise.resolve(iterator.return()).catch(() => undefined);
    }
  }
}

/**
 * Marks an item's promise as handled: its outcome is also what {@link GbClient.close}
 * waits for, and a caller that awaits items one by one must not see a later item's
 * failure reported as an unhandled rejection before it gets to it.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function closeSource(source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): void {
  if (source instanceof Readable) source.destroy();
  else if (source instanceof PooledFileReader) source.close();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
