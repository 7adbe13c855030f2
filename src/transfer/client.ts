import type { Socket } from "node:net";
import type { DictObject } from "../codecs/dict-value.js";
import type { JsonObject } from "../codecs/json-value.js";
import { ErrorCode, GbError, NetworkError, toGbError } from "../errors.js";
import type { FrameWriter } from "../framing/frame-writer.js";
import { FrameType } from "../protocol/constants.js";
import type { Hello } from "../protocol/messages.js";
import {
  CLOSE_TIMEOUT_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  type ClientOptions,
  type DictItemOptions,
  type ItemOptions,
  type SentItem,
  type SessionInfo,
  type StreamItemOptions,
} from "./client/client-options.js";
import { openConnection, type OpenConnection } from "./client/handshake.js";
import { ItemChunker, type ChunkerOptions } from "./client/item-chunker.js";
import { handled, ItemSlot } from "./client/item-slot.js";
import { ItemsInFlight } from "./client/items-in-flight.js";
import {
  closeSource,
  smallFileContent,
  openFileItem,
  openFileSource,
  readUntilAborted,
  type ItemSource,
} from "./client/item-sources.js";
import {
  prepareDict,
  prepareFile,
  prepareStream,
  type PreparedItem,
} from "./client/prepared-item.js";
import { NO_DATA, payloadNow, type StreamedItem, type WholeItem } from "./client/whole-item.js";
import { SlabReader } from "./client/slab-reader.js";
import { batchPromises, writeBatch, type BatchEntry } from "./client/batch-sender.js";
import { InboundFrames } from "./client/inbound-frames.js";
import { inputFailure } from "./client/input-failure.js";
import { refusedEncryption } from "./client/refused-encryption.js";
import { openResumable, recyclerOf, ResumableFile } from "./client/resumable-file.js";
import { ResumeOffers } from "./client/resume-offers.js";
import { HeldAnswers, type HeldReceipts } from "./client/held-answers.js";
import { SendQueue } from "./client/send-queue.js";
import { PooledFileReader } from "./client/pooled-file-reader.js";

export {
  CLOSE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
} from "./client/client-options.js";
export type {
  ClientOptions,
  DictItemOptions,
  ItemOptions,
  KeySource,
  SentItem,
  SessionInfo,
  StreamItemOptions,
} from "./client/client-options.js";

/**
 * A connection to a gb-transfer server. Items are sent in the order given, pipelined;
 * each `send*` promise resolves when the server's receipt arrived and matched what was
 * sent, and rejects with a {@link GbError} otherwise.
 */
export class GbClient {
  readonly hello: Hello;
  /** The connection: a Noise session (encrypted, its fingerprint [H-FINGERPRINT]) or plain. */
  readonly session: SessionInfo;
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #inFlight = new ItemsInFlight();
  /** Small files' bytes, in memory used again once they are sent. */
  readonly #files = new SlabReader();
  /** The item awaiting its OFFER [RES-OFFER]. */
  readonly #offers = new ResumeOffers();
  /** The HAVE frames awaiting their HELD [RES-HAVE]. */
  readonly #held = new HeldAnswers();
  /** Items waiting for their turn to be written, in call order. */
  readonly #queue: SendQueue;
  #fatal: GbError | undefined;
  /** The server closed with nothing in flight (after {@link close}): no error made yet. */
  #closedQuietly = false;
  readonly #closed: Promise<void>;
  readonly #closeTimeoutMs: number;

  private constructor(
    connection: OpenConnection,
    timeouts: { readonly responseMs: number; readonly closeMs: number },
  ) {
    const { socket, writer, guard } = connection;
    this.#socket = socket;
    this.#writer = writer;
    this.#queue = new SendQueue(
      { full: () => socket.writableNeedDrain, drain: () => writer.drain() },
      (error) => {
        this.#fail(toGbError(error, "sending failed"));
      },
    );
    this.hello = connection.hello;
    this.session = connection.session;
    this.#closeTimeoutMs = timeouts.closeMs;
    // The socket may have closed already, while the key was being derived: then no
    // "close" event is coming, and `socket.closed` says so.
    this.#closed = socket.closed
      ? Promise.resolve()
      : new Promise((resolve) =>
          socket.once("close", () => {
            resolve();
          }),
        );
    const inbound = new InboundFrames(
      connection.parser,
      connection.opener,
      {
        offers: this.#offers,
        held: this.#held,
        inFlight: this.#inFlight,
        encrypted: this.session.encrypted,
      },
      (error, drop) => {
        this.#fail(error);
        if (drop) socket.destroy();
      },
    );
    socket.on("data", (chunk: Buffer) => {
      inbound.receive(chunk);
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
      if (this.#inFlight.size === 0 && this.#queue.idleNow && this.#held.idle) {
        this.#closedQuietly = true;
      } else {
        this.#fail(new NetworkError(ErrorCode.CONNECTION_LOST, "the server closed the connection"));
      }
    });
    socket.setTimeout(timeouts.responseMs);
    socket.resume();
    socket.on("timeout", () => {
      if (this.#inFlight.size === 0 && this.#held.idle) return;
      this.#fail(new NetworkError(ErrorCode.TIMEOUT, "the server stopped responding"));
      socket.destroy();
    });
    // Our own "error" listener is on: the handshake's guard against unhandled ones can go.
    guard.release();
    // Units that arrived together with HELLO (a BUSY refusal, say), or records that came
    // with the handshake's last message.
    inbound.early(connection.early.plaintext, connection.early.failure);
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
   * Connects and waits for the server's HELLO. With a key ({@link ClientOptions.encryption})
   * it runs the Noise handshake (both sides prove they hold the key) and every byte after
   * it travels encrypted; without one the connection is plain.
   * @throws {NetworkError} CONNECT_FAILED / TIMEOUT
   * @throws {ProtocolError} BAD_PREAMBLE / UNSUPPORTED_VERSION when the peer is not a
   *   version-2 gb-transfer server
   * @throws {CryptoError} KEY_MISMATCH (the server holds another key) / KEY_INVALID
   * @throws {RefusedError} ENCRYPTION_REQUIRED when no key was given and the server takes
   *   this client only encrypted (found before anything is sent)
   */
  static async connect(options: ClientOptions = {}): Promise<GbClient> {
    const connection = await openConnection(options);
    return new GbClient(connection, {
      responseMs: options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
      closeMs: options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS,
    });
  }

  /**
   * Sends an item prepared before connecting (`prepareDict`, `prepareDictInput`,
   * `prepareFile`, `prepareStream`), as it was prepared: nothing is checked, measured
   * or encoded again. A file is opened when its turn comes; one that cannot be opened
   * then rejects with InputError INPUT_UNREADABLE and sends nothing.
   */
  send(item: PreparedItem, options: ItemOptions = {}): Promise<SentItem> {
    const refused = refusedEncryption(options, this.session.encrypted);
    if (refused !== undefined) {
      if (item.origin === "stream") closeSource(item.source);
      return refused;
    }
    switch (item.origin) {
      case "memory":
        return this.#sendWhole(item, options);
      case "directory":
        // A directory of a tree carries no data: an empty LAST_CHUNK [T-ENTRY].
        return this.#sendWhole({ meta: item.meta, payload: NO_DATA }, options);
      case "path": {
        // A small file is read whole when its turn comes; a larger one opened then.
        const small = smallFileContent(item.path, item.meta.size, this.#files);
        if (small !== undefined)
          return this.#sendWhole({ meta: item.meta, payload: small }, options, this.#files.release);
        // [RES-ASK] a file of 1 MiB or more asks to resume.
        return this.#sendStreamed(
          () => openResumable(item, options) ?? openFileItem(item),
          options,
        );
      }
      case "stream":
        return this.#sendStreamed(() => item, options);
    }
  }

  /**
   * [T-BATCH] Sends file entries of one directory of a tree (a {@link BatchPlan}'s) as one
   * item: each is read whole when the batch's turn comes, and gets its own receipt, a
   * promise per entry, in their order. A file that cannot be read then, or changed size,
   * fails alone (InputError INPUT_UNREADABLE) and is left out of the batch.
   */
  sendBatch(entries: readonly BatchEntry[], options: ItemOptions = {}): Promise<SentItem>[] {
    const refused = refusedEncryption(options, this.session.encrypted);
    if (refused !== undefined) return entries.map(() => refused);
    const { settles, promises } = batchPromises(entries.length);
    this.#queue.push(() => {
      // Nothing is read once the connection failed: the files fail with it.
      const fatal = this.#failure();
      if (fatal !== undefined) for (const settle of settles) settle.reject(fatal);
      else {
        const connection = { writer: this.#writer, inFlight: this.#inFlight, files: this.#files };
        writeBatch(entries, settles, { ...connection, digest: this.#digest });
      }
      return undefined;
    });
    return promises;
  }

  /**
   * Sends a dictionary serialized in `options.format`, now (later changes to `value` are
   * not sent); one that cannot be encoded rejects with a CodecError and sends nothing.
   */
  sendDict(value: DictObject | JsonObject, options: DictItemOptions): Promise<SentItem> {
    const refused = refusedEncryption(options, this.session.encrypted);
    if (refused !== undefined) return refused;
    let item: WholeItem;
    try {
      item = prepareDict(value, options);
    } catch (error) {
      return handled(Promise.reject(toGbError(error, "cannot prepare the item")));
    }
    return this.#sendWhole(item, options);
  }

  /**
   * Sends the file at `filePath` under its base name, looked at when its turn comes: one
   * missing or not a regular file rejects with InputError INPUT_UNREADABLE, sending nothing.
   */
  sendFile(filePath: string, options: ItemOptions & { name?: string } = {}): Promise<SentItem> {
    const refused = refusedEncryption(options, this.session.encrypted);
    if (refused !== undefined) return refused;
    return this.#sendStreamed(async () => {
      const file = await prepareFile(filePath, options);
      return (
        openResumable(file, options) ?? { meta: file.meta, source: await openFileSource(file.path) }
      );
    }, options);
  }

  /**
   * [RES-HAVE] Which entries (entry keys) of the tree `tree` (tree key) the server stored:
   * the HAVE frames go out ahead of items sent after this call. A receipt or null per key.
   */
  held(tree: string, keys: readonly string[]): Promise<HeldReceipts> {
    const fatal = this.#failure();
    if (fatal !== undefined) return handled(Promise.reject(fatal));
    return this.#held.ask(tree, keys, (have) => {
      this.#queue.push(() => {
        // At once: the server answers the first HAVE while the rest are being asked.
        if (this.#failure() === undefined) this.#writer.writeFrame(FrameType.HAVE, have);
        this.#writer.flush();
        return undefined;
      });
    });
  }

  /** [M-HELD] True once the server said it holds no entry of the tree `tree`. */
  holdsNothing(tree: string): boolean {
    return this.#held.holdsNothing(tree);
  }

  /** Sends bytes from any async iterable (a readable stream, stdin) as a file item. */
  sendStream(source: AsyncIterable<Uint8Array>, options: StreamItemOptions): Promise<SentItem> {
    return this.send(prepareStream(source, options), options);
  }

  /** The failure that ended the connection, if it failed: every item after it fails with it. */
  get failure(): GbError | undefined {
    return this.#failure();
  }

  /**
   * Waits for every receipt (items in flight settle first), then closes cleanly; a server
   * that does not close its side within the close timeout is cut off.
   */
  async close(): Promise<void> {
    await this.#queue.idle();
    await this.#inFlight.allSettled();
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

  /** Queues an item held in memory, written in one go when its turn comes. */
  #sendWhole(
    item: WholeItem,
    options: ItemOptions,
    recycle?: (payload: Uint8Array) => void,
  ): Promise<SentItem> {
    const { slot, promise } = ItemSlot.withPromise(item.meta, this.#inFlight.forget);
    this.#queue.push(() => {
      // Nothing is read once the connection failed: the item fails with it.
      const fatal = this.#failure();
      let payload: Uint8Array | string;
      try {
        if (fatal !== undefined) throw fatal;
        payload = payloadNow(item.payload);
      } catch (error) {
        // A file that cannot be read fails alone, before it gets an id.
        slot.reject(toGbError(error, "cannot read the file"));
        return undefined;
      }
      // A file read whole (into a recycled slab) that changed size since it was looked at.
      if (recycle !== undefined && typeof payload !== "string" && !slot.grewPast(payload.length)) {
        slot.endedShort();
      }
      this.#inFlight.add(slot);
      const chunkerOptions = this.#chunkerOptions(options.onProgress, recycle);
      ItemChunker.begin(this.#writer, slot, chunkerOptions).writeWhole(payload);
      return undefined;
    });
    return promise;
  }

  /**
   * Queues a streamed item: its place in the send order is taken now; `start` (opening a
   * file) runs, and the wire id is assigned, when its turn comes; its source is closed once
   * the item is over, whatever happens.
   */
  #sendStreamed(
    start: () => StreamedItem | Promise<StreamedItem>,
    options: ItemOptions,
  ): Promise<SentItem> {
    return handled(
      new Promise<SentItem>((resolve, reject) => {
        this.#queue.push(async () => {
          let item: StreamedItem;
          try {
            item = await start();
          } catch (error) {
            reject(toGbError(error, "cannot prepare the item"));
            return;
          }
          try {
            const slot = new ItemSlot(item.meta, resolve, reject, this.#inFlight.forget);
            this.#inFlight.add(slot);
            await this.#writeStreamed(slot, item.source, options.onProgress);
          } finally {
            closeSource(item.source);
          }
        });
      }),
    );
  }

  /** Reads `source` into the item's frames until it ends, or the item is given up. */
  async #writeStreamed(
    slot: ItemSlot,
    source: ItemSource,
    onProgress: ((bytesSent: number) => void) | undefined,
  ): Promise<void> {
    const fatal = this.#failure();
    if (fatal !== undefined) {
      slot.reject(fatal);
      return;
    }
    const options = this.#chunkerOptions(onProgress, recyclerOf(source));
    const chunker = ItemChunker.begin(this.#writer, slot, options);
    const stop = (slot.stopReading = new AbortController());
    try {
      if (source instanceof ResumableFile) {
        const exchange = { offers: this.#offers, writer: this.#writer };
        await source.negotiate(slot.id, exchange, chunker, stop.signal);
      }
      // A file read from disk that grows past its size is read no further (the server
      // refuses it, SIZE_MISMATCH): the file changed, which is said as such.
      const file = source instanceof PooledFileReader || source instanceof ResumableFile;
      for await (const piece of readUntilAborted(source, stop.signal)) {
        if (slot.aborted || this.#failure() !== undefined) break;
        const room = chunker.add(piece);
        if (file && slot.grewPast(piece.length)) break;
        if (!room && !(await this.#drained())) break;
      }
      if (file && !slot.aborted && !stop.signal.aborted) slot.endedShort();
    } catch (error) {
      // A source that ended because we stopped reading it is not an input error.
      if (!stop.signal.aborted) {
        this.#failInput(slot, error);
        return;
      }
    }
    const failure = this.#failure();
    if (failure !== undefined) {
      slot.reject(failure);
      return;
    }
    // [K-ABORT] refused while we were sending: the item still ends [F-LAST], emptily.
    if (slot.aborted) chunker.abort();
    else if (!chunker.end()) await this.#drained();
  }

  /**
   * [K-RECEIPT-SESSION] The client hashes what it sends on a plain connection, to check
   * the receipt; a session's records already prove every byte arrived as sent.
   */
  get #digest(): boolean {
    return !this.session.encrypted;
  }

  #chunkerOptions(
    onProgress: ItemOptions["onProgress"],
    recycle?: (piece: Uint8Array) => void,
  ): ChunkerOptions {
    return { onProgress, digest: this.#digest, recycle };
  }

  /** Waits for the socket to drain; false when the connection failed meanwhile. */
  async #drained(): Promise<boolean> {
    try {
      await this.#writer.drain();
      return true;
    } catch (error) {
      this.#fail(toGbError(error, "sending failed"));
      return false;
    }
  }

  /** The item's source failed mid-item. */
  #failInput(slot: ItemSlot, error: unknown): void {
    const failure = inputFailure(slot.meta.name, error);
    // The protocol has no way to cancel an item half-sent, and the server must never
    // store it: end the connection, which makes the server discard it.
    slot.reject(failure);
    this.#fail(failure);
    // What was written so far goes out first, so the server sees the item cut short.
    this.#writer.flush();
    this.#socket.destroy();
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
    this.#inFlight.rejectAll(this.#fatal);
    this.#held.fail(this.#fatal);
  }
}
