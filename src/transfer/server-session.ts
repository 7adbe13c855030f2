import { createHash, type Hash } from "node:crypto";
import type { Socket } from "node:net";
import path from "node:path";
import { decodeDict } from "../codecs/dict-format.js";
import type { DictLimits } from "../codecs/limits.js";
import type { DictObject } from "../codecs/dict-value.js";
import { ChunkOpener } from "../crypto/chunk-opener.js";
import { CHUNK_PLAINTEXT_BYTES, TAG_BYTES } from "../crypto/constants.js";
import { deriveItemKeys, type ItemKeys } from "../crypto/item-keys.js";
import { openOnce, sealOnce } from "../crypto/seal-once.js";
import { sha256Hex } from "../crypto/sha256-hex.js";
import {
  CodecError,
  CryptoError,
  ErrorCode,
  IntegrityError,
  InternalError,
  NetworkError,
  ProtocolError,
  RefusedError,
  toGbError,
} from "../errors.js";
import type { ParsedFrame } from "../framing/frame.js";
import { FrameParser } from "../framing/frame-parser.js";
import { FrameWriter } from "../framing/frame-writer.js";
import {
  CLIENT_FRAME_LIMITS,
  FrameType,
  MAX_CHUNK_FRAME_BYTES,
  MAX_ERROR_MESSAGE_LENGTH,
  PROTOCOL_VERSION,
} from "../protocol/constants.js";
import {
  decodeItemHeader,
  decodeMeta,
  encodeError,
  receiptText,
  encodeReceiptBody,
  type Hello,
  type ItemMeta,
  type ReceiptBody,
} from "../protocol/messages.js";
import { formatStoredDict } from "./format-stored-dict.js";
import type { ItemStore, PendingFile } from "./item-store.js";
import type { ItemFailure, Peer, ReceivedItem } from "./received-item.js";
import { safeBaseName } from "./safe-name.js";

/** What a session needs from its server. */
export interface SessionContext {
  readonly hello: Hello;
  /** {@link hello} encoded once for every connection. */
  readonly helloPayload: Buffer;
  readonly masterKey: Buffer;
  readonly store: ItemStore | null;
  readonly dictLimits: DictLimits;
  /** Bytes of each file kept in {@link ReceivedItem.preview}; 0 keeps none. */
  readonly previewBytes: number;
  readonly requireEncryption: boolean;
  /** A connection with no traffic for this long is closed. */
  readonly idleTimeoutMs: number;
  /**
   * Reserves room for a dictionary of `bytes` against the server-wide budget for
   * dictionaries being received; false when the budget is spent.
   */
  reserveDictBytes(bytes: number): boolean;
  releaseDictBytes(bytes: number): void;
  /**
   * Records an encrypted item's salt; false when it was seen before (a replayed item,
   * which would also make the server seal a second receipt under a single-use key).
   */
  rememberSalt(salt: Buffer): boolean;
  onItem(item: ReceivedItem): void;
  onFailure(failure: ItemFailure): void;
}

type State = "preamble" | "ready" | "item" | "discard" | "closed";

interface ActiveItem {
  readonly id: number;
  readonly meta: ItemMeta;
  readonly keys: ItemKeys | undefined;
  readonly opener: ChunkOpener | undefined;
  /** Running SHA-256 of a file; a dictionary is hashed whole once complete. */
  readonly hash: Hash | undefined;
  bytes: number;
  /**
   * Dictionary payload (dictionaries only): allocated at the declared size, which was
   * reserved against the server's dictionary budget, and filled by copying each chunk,
   * so a peer sending tiny chunks cannot make the server hold millions of buffers.
   */
  dict: Buffer | undefined;
  /** The file being written (files, when saving). */
  file: PendingFile | undefined;
  readonly preview: Buffer[];
  previewLength: number;
}

/**
 * The server side of one connection: the protocol state machine of PROTOCOL.md,
 * "Sequence". Frames are handled strictly in order; while an asynchronous step (a
 * file write waiting for the disk, storing a finished item) is in progress the socket
 * is paused, so a fast client cannot make the server buffer without bound.
 */
export class ServerSession {
  readonly peer: Peer;
  readonly #socket: Socket;
  readonly #context: SessionContext;
  readonly #parser = new FrameParser(CLIENT_FRAME_LIMITS, { expectPreamble: true });
  readonly #writer: FrameWriter;
  #state: State = "preamble";
  #busy = false;
  #nextId = 1;
  #item: ActiveItem | undefined;
  /** Whether the current item is encrypted: its failures then say nothing of its metadata. */
  #itemEncrypted = false;
  #draining = false;
  /** The client has half-closed: no more bytes will arrive. */
  #ended = false;
  readonly #closed: Promise<void>;

  constructor(socket: Socket, peer: Peer, context: SessionContext) {
    this.#socket = socket;
    this.peer = peer;
    this.#context = context;
    this.#writer = new FrameWriter(socket);
    this.#closed = new Promise((resolve) =>
      socket.once("close", () => {
        resolve();
      }),
    );
    socket.setNoDelay(true);
    socket.setTimeout(context.idleTimeoutMs);
    socket.on("timeout", () => {
      this.#fatal(new NetworkError(ErrorCode.TIMEOUT, "no data from the client; closing"));
    });
    socket.on("data", (chunk: Buffer) => {
      // After a fatal error nothing more is read into memory; the bytes are dropped.
      if (this.#state === "closed") return;
      this.#parser.push(chunk);
      if (this.#busy) this.#pauseIfFull();
      else this.#pump();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#pump();
    });
    socket.on("error", () => {
      // The peer reset or the network failed; "close" follows and cleans up.
    });
    socket.on("close", () => {
      this.#onClose();
    });
    // [P-PREAMBLE] [M-HELLO] the server speaks first, without waiting for the client.
    this.#writer.writePreamble(PROTOCOL_VERSION);
    this.#writer.writeFrame(FrameType.HELLO, context.helloPayload);
  }

  /** Resolves once the connection has closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Stops after the item in progress: an idle connection is told SHUTTING_DOWN and
   * closed at once; a busy one is closed when its current item ends.
   */
  drain(): void {
    this.#draining = true;
    if (this.#state === "ready" || this.#state === "preamble") {
      this.#fatal(new RefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down"));
    }
  }

  /** Closes the connection now, discarding any partial item. */
  destroy(): void {
    this.#socket.destroy();
  }

  #pump(): void {
    while (!this.#busy && this.#state !== "closed") {
      let unit;
      try {
        unit = this.#parser.next();
      } catch (error) {
        this.#fatal(error);
        return;
      }
      if (unit === undefined) {
        if (this.#ended) this.#onEnd();
        return;
      }
      let pending: Promise<void> | undefined;
      try {
        if (unit.kind === "preamble") this.#onPreamble(unit.version);
        else pending = this.#onFrame(unit.frame);
      } catch (error) {
        this.#fatal(error);
        return;
      }
      // A client that pipelines items but never reads its receipts must not make the
      // server queue them without bound: stop reading until the receipts drain.
      if (pending === undefined && this.#socket.writableNeedDrain) pending = this.#writer.drain();
      if (pending !== undefined) {
        // Parsing waits; reading goes on until a chunk's worth is buffered, so that a
        // short wait (committing a small item) costs no pause and resume of the socket.
        this.#busy = true;
        this.#pauseIfFull();
        pending.then(
          () => {
            this.#busy = false;
            if (this.#state === "closed") return;
            if (this.#socket.isPaused()) this.#socket.resume();
            this.#pump();
          },
          (error: unknown) => {
            this.#busy = false;
            this.#fatal(error);
          },
        );
      }
    }
  }

  /** Stops reading while busy once a whole frame's worth of bytes waits unparsed. */
  #pauseIfFull(): void {
    if (this.#parser.bufferedBytes >= MAX_CHUNK_FRAME_BYTES) this.#socket.pause();
  }

  #onPreamble(version: number): void {
    if (version !== PROTOCOL_VERSION) {
      throw new ProtocolError(
        ErrorCode.UNSUPPORTED_VERSION,
        `protocol version ${version} is not supported; this server speaks version ${PROTOCOL_VERSION}`,
      );
    }
    this.#state = "ready";
  }

  #onFrame(frame: ParsedFrame): Promise<void> | undefined {
    const type = frame.type;
    switch (this.#state) {
      case "ready":
        if (type !== FrameType.ITEM) throw unexpected(type, "an ITEM frame");
        return this.#beginItem(frame.payload);
      case "item":
        if (type === FrameType.CHUNK) return this.#onChunk(frame, false);
        if (type === FrameType.LAST_CHUNK) return this.#onChunk(frame, true);
        throw unexpected(type, "a CHUNK or LAST_CHUNK frame");
      case "discard":
        if (type === FrameType.CHUNK) return undefined;
        if (type === FrameType.LAST_CHUNK) {
          return this.#afterItem();
        }
        throw unexpected(type, "a CHUNK or LAST_CHUNK frame");
      default:
        throw unexpected(type, "nothing");
    }
  }

  #beginItem(payload: Buffer): Promise<void> | undefined {
    const header = decodeItemHeader(payload);
    // [M-ITEM-ID] ids count up from 1 so receipts and errors are unambiguous.
    if (header.id !== this.#nextId) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `item id ${header.id} is out of sequence; expected ${this.#nextId}`,
      );
    }
    this.#nextId++;
    this.#state = "item";
    this.#itemEncrypted = header.encrypted;
    let meta: ItemMeta;
    let keys: ItemKeys | undefined;
    try {
      if (header.encrypted) {
        keys = deriveItemKeys(this.#context.masterKey, header.salt);
        meta = decodeMeta(openOnce(keys.metaKey, header.sealedMeta));
        // Only an authentic item is remembered, so a peer without the key cannot fill
        // the memory of salts.
        if (!this.#context.rememberSalt(header.salt)) {
          throw new CryptoError(
            ErrorCode.REPLAYED,
            "an item with this salt was already received: a replay",
          );
        }
      } else {
        if (this.#context.requireEncryption) {
          throw new RefusedError(
            ErrorCode.ENCRYPTION_REQUIRED,
            "this server accepts encrypted items only",
          );
        }
        meta = header.meta;
      }
      if (meta.kind === "dict" && meta.size > this.#context.dictLimits.maxBytes) {
        throw new CodecError(
          ErrorCode.DICT_TOO_LARGE,
          `the dictionary is ${meta.size} bytes; the limit is ${this.#context.dictLimits.maxBytes}`,
        );
      }
      if (meta.kind === "dict" && !this.#context.reserveDictBytes(meta.size)) {
        throw new RefusedError(
          ErrorCode.BUSY,
          "the server is receiving too many dictionaries at once; try again later",
        );
      }
    } catch (error) {
      return this.#failItem(header.id, undefined, wrongKeyAware(error));
    }
    const item: ActiveItem = {
      id: header.id,
      meta,
      keys,
      opener: keys === undefined ? undefined : new ChunkOpener(keys.payloadKey, keys.baseNonce),
      hash: meta.kind === "dict" ? undefined : createHash("sha256"),
      bytes: 0,
      dict: meta.kind === "dict" ? Buffer.allocUnsafe(meta.size) : undefined,
      file: undefined,
      preview: [],
      previewLength: 0,
    };
    this.#item = item;
    const store = this.#context.store;
    if (meta.kind === "file" && store !== null) {
      return store.begin(safeBaseName(meta.name, "file")).then(
        (file) => {
          // The connection may have died while the file was being created.
          if (this.#item === item) item.file = file;
          else void file.abort();
        },
        (error: unknown) => this.#failItem(item.id, meta.name, error),
      );
    }
    return undefined;
  }

  #onChunk(frame: ParsedFrame, last: boolean): Promise<void> | undefined {
    const item = this.#item;
    if (item === undefined) throw unexpected(FrameType.CHUNK, "an ITEM frame");
    // The chunk as the socket delivered it (usually two pieces): never joined or copied.
    let plaintext: readonly Buffer[];
    let length: number;
    if (item.opener !== undefined) {
      try {
        plaintext = item.opener.openParts(frame.parts, frame.length, last);
      } catch (error) {
        return this.#failItem(item.id, item.meta.name, error, last);
      }
      length = frame.length - TAG_BYTES;
    } else {
      length = frame.length;
      // [F-CHUNK] a plaintext chunk carries at most CHUNK_PLAINTEXT_BYTES.
      if (length > CHUNK_PLAINTEXT_BYTES) {
        throw new ProtocolError(
          ErrorCode.FRAME_TOO_LARGE,
          `a plaintext chunk of ${length} bytes exceeds ${CHUNK_PLAINTEXT_BYTES}`,
        );
      }
      // [F-CHUNK] only the last chunk may be empty: empty chunks would let a peer keep
      // a connection busy forever while sending nothing.
      if (length === 0 && !last) {
        throw new ProtocolError(
          ErrorCode.MALFORMED_MESSAGE,
          "an empty CHUNK (only LAST_CHUNK may be empty)",
        );
      }
      plaintext = frame.parts;
    }
    item.bytes += length;
    const declared = item.meta.size;
    if (declared !== null && item.bytes > declared) {
      return this.#failItem(
        item.id,
        item.meta.name,
        new IntegrityError(
          ErrorCode.SIZE_MISMATCH,
          `more than the declared ${declared} bytes arrived`,
        ),
        last,
      );
    }
    let offset = item.bytes - length;
    for (const piece of plaintext) {
      item.hash?.update(piece);
      if (item.dict !== undefined) {
        // bytes <= declared size was checked above, so this copy stays in bounds.
        piece.copy(item.dict, offset);
        offset += piece.length;
      } else this.#keepPreview(item, piece);
    }
    const pending = item.dict === undefined ? item.file?.write(plaintext) : undefined;
    if (pending !== undefined) {
      return pending.then(
        () => (last ? this.#finishItem(item) : undefined),
        (error: unknown) => this.#failItem(item.id, item.meta.name, error, last),
      );
    }
    return last ? this.#finishItem(item) : undefined;
  }

  #keepPreview(item: ActiveItem, plaintext: Buffer): void {
    const room = this.#context.previewBytes - item.previewLength;
    if (room <= 0) return;
    // Copy: the chunk may be a view into a socket buffer that is reused.
    const kept = Buffer.from(plaintext.subarray(0, room));
    item.preview.push(kept);
    item.previewLength += kept.length;
  }

  /**
   * Verifies, decodes and stores a complete item, then acknowledges it. Synchronous
   * (no promise, no wait) when there is nothing to write: a dictionary on a server that
   * does not save, or a file item when not saving.
   */
  #finishItem(item: ActiveItem): Promise<void> | undefined {
    const meta = item.meta;
    // From here the item is this function's alone: a connection that drops now does not
    // make it "truncated" (all its bytes arrived); it is stored and reported once.
    this.#item = undefined;
    let sha256: string;
    let value: DictObject | undefined;
    try {
      if (meta.size !== null && item.bytes !== meta.size) {
        throw new IntegrityError(
          ErrorCode.SIZE_MISMATCH,
          `the item ended after ${item.bytes} of the declared ${meta.size} bytes`,
        );
      }
      if (meta.kind === "dict") {
        const bytes = item.dict ?? Buffer.alloc(0);
        sha256 = sha256Hex(bytes);
        value = decodeDict(bytes, meta.format, this.#context.dictLimits);
        this.#releaseDict(item);
      } else {
        sha256 = item.hash?.digest("hex") ?? sha256Hex(Buffer.alloc(0));
      }
    } catch (error) {
      return this.#abandonItem(item, error);
    }
    const store = this.#context.store;
    if (store === null || (meta.kind === "file" && item.file === undefined)) {
      this.#acknowledge(item, sha256, value, null);
      return this.#afterItem();
    }
    return this.#storeItem(item, store, sha256, value);
  }

  /** Writes a dictionary out (files are already written), commits, acknowledges. */
  async #storeItem(
    item: ActiveItem,
    store: ItemStore,
    sha256: string,
    value: DictObject | undefined,
  ): Promise<void> {
    let savedAs: string;
    try {
      if (item.meta.kind === "dict" && value !== undefined) {
        const file = await store.begin(dictFileName(item.meta.name));
        item.file = file;
        const pending = file.write([formatStoredDict(value, item.bytes)]);
        if (pending !== undefined) await pending;
      }
      if (item.file === undefined) {
        throw new InternalError(ErrorCode.INTERNAL, "the item has no file to store");
      }
      savedAs = await item.file.commit();
      item.file = undefined;
    } catch (error) {
      await this.#abandonItem(item, error);
      return;
    }
    this.#acknowledge(item, sha256, value, savedAs);
    await this.#afterItem();
  }

  /** An item whose LAST_CHUNK arrived failed while being verified or stored. */
  async #abandonItem(item: ActiveItem, error: unknown): Promise<void> {
    this.#releaseDict(item);
    if (item.file !== undefined) await item.file.abort();
    item.file = undefined;
    await this.#failItem(item.id, item.meta.name, error, true);
  }

  /** Sends the receipt of a stored item and reports it to the server's listeners. */
  #acknowledge(
    item: ActiveItem,
    sha256: string,
    value: DictObject | undefined,
    savedAs: string | null,
  ): void {
    const meta = item.meta;
    const store = this.#context.store;
    this.#sendReceipt(item, {
      kind: meta.kind,
      name: meta.name,
      bytes: item.bytes,
      sha256,
      savedAs,
    });
    // The item is stored and acknowledged whatever a listener does. (No spread of the
    // peer: a literal that starts with a spread defines every later member the slow way.)
    this.#context.onItem({
      connectionId: this.peer.connectionId,
      remote: this.peer.remote,
      id: item.id,
      kind: meta.kind,
      name: meta.name,
      format: meta.kind === "dict" ? meta.format : undefined,
      encrypted: item.keys !== undefined,
      bytes: item.bytes,
      sha256,
      savedAs,
      savedPath: savedAs === null || store === null ? null : path.join(store.directory, savedAs),
      value,
      preview: meta.kind === "file" ? Buffer.concat(item.preview) : undefined,
    });
  }

  #sendReceipt(item: ActiveItem, body: ReceiptBody): void {
    // [M-RECEIPT] a receipt for an encrypted item is sealed with the item's receipt key,
    // so it neither reveals the plaintext's hash nor can be forged without the key.
    const message =
      item.keys === undefined
        ? receiptText({ id: item.id, encrypted: false, receipt: body })
        : receiptText({
            id: item.id,
            encrypted: true,
            sealedReceipt: sealOnce(item.keys.receiptKey, encodeReceiptBody(body)),
          });
    this.#writer.writeTextFrame(FrameType.RECEIPT, message);
  }

  /**
   * Ends one item with an ERROR frame naming its id. The connection goes on: the rest
   * of the item's chunks are read and dropped until its LAST_CHUNK.
   */
  async #failItem(
    id: number,
    name: string | undefined,
    cause: unknown,
    sawLast = false,
  ): Promise<void> {
    const error = toGbError(cause, "the item failed");
    const item = this.#item;
    this.#item = undefined;
    if (item !== undefined) this.#releaseDict(item);
    if (item?.file !== undefined) await item.file.abort();
    const message = truncateMessage(error.message);
    this.#context.onFailure({ ...this.peer, id, name, code: error.code, message });
    if (this.#state === "closed") return;
    this.#writer.writeFrame(
      FrameType.ERROR,
      encodeError({ code: error.code, message: this.#wireMessage(error.code, message), id }),
    );
    if (sawLast) {
      await this.#afterItem();
    } else {
      this.#state = "discard";
    }
  }

  /**
   * What an item failure says on the wire. For an encrypted item the details could
   * reveal its sealed metadata (name, size) to an observer, so only the code is sent;
   * the server's own log keeps the full message.
   */
  #wireMessage(code: string, message: string): string {
    return this.#itemEncrypted ? `the encrypted item failed: ${code}` : message;
  }

  #releaseDict(item: ActiveItem): void {
    if (item.dict === undefined) return;
    this.#context.releaseDictBytes(item.dict.length);
    item.dict = undefined;
  }

  #afterItem(): Promise<void> | undefined {
    if (this.#state === "closed") return undefined;
    this.#state = "ready";
    if (this.#draining) {
      this.#fatal(new RefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down"));
    }
    return undefined;
  }

  /** Called once every complete unit sent before the client's half-close is handled. */
  #onEnd(): void {
    if (this.#state === "closed") return;
    if (this.#state === "ready" && this.#parser.atBoundary) {
      // A clean goodbye: the client half-closed between items.
      this.#state = "closed";
      this.#writer.end();
      return;
    }
    this.#fatal(
      new ProtocolError(ErrorCode.TRUNCATED, "the connection ended in the middle of an item"),
    );
  }

  /** Reports a connection-ending error to the peer (when it can still hear) and closes. */
  #fatal(cause: unknown): void {
    if (this.#state === "closed") return;
    const error = toGbError(cause, "connection failed");
    const item = this.#item;
    this.#state = "closed";
    this.#item = undefined;
    if (item !== undefined) this.#releaseDict(item);
    if (item?.file !== undefined) void item.file.abort();
    // An item already refused (discard state) was reported then; only an active one fails here.
    const failedId = item?.id;
    const message = truncateMessage(error.message);
    if (!this.#writer.closed) {
      this.#writer.writeFrame(
        FrameType.ERROR,
        encodeError({ code: error.code, message, id: undefined }),
      );
      this.#writer.end();
      // A peer that does not read must not hold the socket open.
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    }
    if (error.code !== ErrorCode.SHUTTING_DOWN || failedId !== undefined) {
      this.#context.onFailure({
        ...this.peer,
        id: failedId,
        name: item?.meta.name,
        code: error.code,
        message,
      });
    }
  }

  #onClose(): void {
    const item = this.#item;
    this.#item = undefined;
    if (this.#state !== "closed") {
      this.#state = "closed";
      if (item !== undefined) {
        this.#releaseDict(item);
        if (item.file !== undefined) void item.file.abort();
        this.#context.onFailure({
          ...this.peer,
          id: item.id,
          name: item.meta.name,
          code: ErrorCode.TRUNCATED,
          message: "the connection closed in the middle of the item",
        });
      }
    }
  }
}

/** Error texts can quote peer data; keep them within the protocol's limit. */
function truncateMessage(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE_LENGTH
    ? message
    : `${message.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…`;
}

function unexpected(type: number, expected: string): ProtocolError {
  return new ProtocolError(
    ErrorCode.UNEXPECTED_FRAME,
    `unexpected frame type 0x${type.toString(16).padStart(2, "0")}; expected ${expected}`,
  );
}

/** A failure to open the sealed metadata almost always means the keys differ. */
function wrongKeyAware(error: unknown): unknown {
  if (error instanceof CryptoError && error.code === ErrorCode.DECRYPT_FAILED) {
    return new CryptoError(
      ErrorCode.DECRYPT_FAILED,
      "cannot decrypt the item: it was encrypted with a different key",
      { cause: error },
    );
  }
  return error;
}

/** A dictionary is stored as pretty JSON under its name with a .json extension. */
function dictFileName(name: string): string {
  const base = safeBaseName(name, "dictionary.json");
  const dot = base.lastIndexOf(".");
  return `${dot > 0 ? base.slice(0, dot) : base}.json`;
}
