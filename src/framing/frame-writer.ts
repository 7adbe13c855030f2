import { ErrorCode, InternalError, NetworkError } from "../errors.js";
import { FRAME_HEADER_BYTES } from "./frame.js";
import { PREAMBLE_BYTES, PREAMBLE_MAGIC } from "./preamble.js";

/**
 * Payloads up to this size are copied next to their header into a staging block, so
 * that a burst of small frames (pipelined dictionaries, receipts) leaves as a few large
 * buffers instead of two small ones per frame. Larger payloads are passed by reference.
 */
export const COPY_PAYLOAD_BELOW_BYTES = 4 * 1024;
/**
 * Size of the largest staging block. A connection's first block is small (most carry a
 * few control frames); each new block doubles up to this size.
 */
export const STAGING_BLOCK_BYTES = 64 * 1024;
/**
 * Room for what a short connection writes (a greeting and a receipt, or an item): it
 * comes from Node's shared buffer pool, so a connection costs no allocation of its own.
 */
const FIRST_STAGING_BLOCK_BYTES = 512;
/** Before the first frame: no block yet. */
const NO_BLOCK = Buffer.alloc(0);

/** The type is one byte and the length four (big-endian) in a frame header. [F-HEADER] */
const MAX_FRAME_TYPE = 0xff;
const MAX_PAYLOAD_BYTES = 0xffff_ffff;

/**
 * What the writer needs of a socket: a `net.Socket`, a `RecordSink` that seals
 * what is written into records on its way to one, or a test's fake.
 */
export interface FrameSink {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(): unknown;
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableNeedDrain: boolean;
  on(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
  /**
   * The most plaintext bytes one record carries, when the sink seals what is written
   * into records [R-RECORD]; absent on a plain socket.
   */
  readonly recordPlaintextBytes?: number;
  /**
   * Says that the next `bytes` bytes written are one frame: a sink that seals records
   * starts a new one for them when they fit in one but not in what is left of the
   * record being filled [R-ALIGN].
   */
  keepTogether?(bytes: number): void;
}

/**
 * Writes preambles and frames to a socket.
 *
 * Headers and small payloads are staged in one block and handed to the socket as one
 * buffer; large payloads follow by reference, never copied. Everything written in one
 * turn of the event loop (a frame's header and payload, the chunks cut from one read of
 * a file, a burst of receipts) goes out in one corked batch: a single writev.
 */
export class FrameWriter {
  readonly #socket: FrameSink;
  #corked = false;
  /** The current staging block; bytes before `#sent` were handed to the socket. */
  #block: Buffer = NO_BLOCK;
  #sent = 0;
  #used = 0;
  readonly #flushLater = (): void => {
    this.flush();
  };

  constructor(socket: FrameSink) {
    this.#socket = socket;
  }

  /**
   * The largest payload whose frame, header included, fills one record exactly, when
   * the socket seals records [R-ALIGN]; undefined on a plain connection. Data cut into
   * frames of this size travels one frame per record, each record sealed from the
   * frame's header and payload as they are, nothing gathered.
   */
  get payloadBytesPerRecord(): number | undefined {
    const recordBytes = this.#socket.recordPlaintextBytes;
    return recordBytes === undefined ? undefined : recordBytes - FRAME_HEADER_BYTES;
  }

  /** True once the socket can no longer be written to. */
  get closed(): boolean {
    return this.#socket.destroyed || this.#socket.writableEnded;
  }

  /**
   * Stages the preamble without sending it: it leaves with the first frame written, or
   * at {@link flush} or {@link end}. A client saves a packet this way (and the server a
   * read) while it waits for the server's HELLO. [P-PREAMBLE]
   */
  holdPreamble(version: number): void {
    const at = this.#reserve(PREAMBLE_BYTES);
    PREAMBLE_MAGIC.copy(this.#block, at);
    this.#block.writeUInt16BE(version, at + PREAMBLE_MAGIC.length);
  }

  writePreamble(version: number): boolean {
    this.#batch();
    this.holdPreamble(version);
    return !this.#socket.writableNeedDrain;
  }

  /**
   * Writes one frame whose payload is the concatenation of `parts`.
   * @returns false when the socket's buffer is full: await {@link drain} before writing more.
   */
  writeFrame(type: number, ...parts: readonly Uint8Array[]): boolean {
    let length = 0;
    for (const part of parts) length += part.length;
    this.#batch();
    if (length >= COPY_PAYLOAD_BELOW_BYTES) this.#keepTogether(length);
    this.#writeHeader(type, length);
    if (length < COPY_PAYLOAD_BELOW_BYTES) {
      // Staged bytes reach the socket when the block is full or at the end of this turn
      // (at most one block, uncounted by the socket's back-pressure meanwhile).
      for (const part of parts) this.#stage(part);
      return !this.#socket.writableNeedDrain;
    }
    let ok = this.#handOver();
    for (const part of parts) if (part.length > 0) ok = this.#socket.write(part);
    return ok;
  }

  /**
   * Writes one frame whose payload is `text` in UTF-8 (a JSON control message, a JSON
   * dictionary): a short text is encoded straight into the staging block, with no
   * buffer of its own.
   * @returns false when the socket's buffer is full, as {@link writeFrame}.
   */
  writeTextFrame(type: number, text: string): boolean {
    // Each UTF-16 unit is at most 3 UTF-8 bytes: a short text needs no exact count first.
    const length =
      text.length * 3 < COPY_PAYLOAD_BELOW_BYTES ? undefined : Buffer.byteLength(text, "utf8");
    if (length !== undefined && length >= COPY_PAYLOAD_BELOW_BYTES) {
      return this.writeFrame(type, Buffer.from(text, "utf8"));
    }
    this.#batch();
    // Room for the longest encoding; the header gets the real length once it is known.
    const headerAt = this.#reserve(FRAME_HEADER_BYTES + (length ?? text.length * 3));
    const written = this.#block.write(text, headerAt + FRAME_HEADER_BYTES, "utf8");
    this.#used = headerAt + FRAME_HEADER_BYTES + written;
    this.#writeHeaderAt(headerAt, type, written);
    return !this.#socket.writableNeedDrain;
  }

  /**
   * Writes a frame with one payload, like {@link writeFrame}, and calls `onWritten` once
   * the payload's memory may be used again: at once when it was copied, else when the
   * socket has handed it to the kernel (or was destroyed).
   */
  writeFrameThen(type: number, payload: Uint8Array, onWritten: () => void): boolean {
    if (payload.length < COPY_PAYLOAD_BELOW_BYTES) {
      this.writeFrame(type, payload);
      // Copied, but the caller's memory may also hold earlier payloads written by
      // reference and not yet sent: call back only once everything before is out.
      return this.#handOver(onWritten);
    }
    this.#batch();
    this.#keepTogether(payload.length);
    this.#writeHeader(type, payload.length);
    this.#handOver();
    return this.#socket.write(payload, () => {
      onWritten();
    });
  }

  /** Sends what this turn of the event loop has written so far, now. */
  flush(): void {
    this.#handOver();
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  }

  /** Sends anything held back, then ends our side of the connection. */
  end(): void {
    this.flush();
    this.#socket.end();
  }

  /**
   * Sends anything held back, then resolves when the socket's write buffer has drained.
   * @throws {NetworkError} CONNECTION_LOST when the socket closes first.
   */
  async drain(): Promise<void> {
    this.flush();
    const socket = this.#socket;
    if (!socket.writableNeedDrain) return;
    const lost = (): NetworkError =>
      new NetworkError(ErrorCode.CONNECTION_LOST, "the connection closed while sending");
    if (socket.destroyed) throw lost();
    // Plain listeners: this runs once per MiB of a large file, and an AbortController
    // per wait would cost an exception object each time.
    await new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        socket.off("drain", onDrain);
        socket.off("close", onClose);
      };
      const onDrain = (): void => {
        settle();
        resolve();
      };
      const onClose = (): void => {
        settle();
        reject(lost());
      };
      socket.on("drain", onDrain);
      socket.on("close", onClose);
    });
  }

  /**
   * [R-ALIGN] Before a frame whose payload goes by reference: what was staged before it
   * goes to the socket on its own, then the socket learns the frame's size, so that a
   * record sink can give the frame a record of its own.
   */
  #keepTogether(payloadBytes: number): void {
    const socket = this.#socket;
    if (socket.keepTogether === undefined) return;
    this.#handOver();
    socket.keepTogether(FRAME_HEADER_BYTES + payloadBytes);
  }

  /**
   * Stages a frame header. Checked first: a header that cannot be encoded must not leave
   * reserved bytes behind, which would go out as garbage with the next frame.
   */
  #writeHeader(type: number, length: number): void {
    if (
      !Number.isInteger(type) ||
      type < 0 ||
      type > MAX_FRAME_TYPE ||
      length > MAX_PAYLOAD_BYTES
    ) {
      throw new InternalError(
        ErrorCode.INTERNAL,
        `cannot encode a frame of type ${type} and ${length} bytes`,
      );
    }
    this.#writeHeaderAt(this.#reserve(FRAME_HEADER_BYTES), type, length);
  }

  #writeHeaderAt(offset: number, type: number, length: number): void {
    this.#block[offset] = type;
    this.#block.writeUInt32BE(length, offset + 1);
  }

  /**
   * Reserves `bytes` of room at the end of the staging block (a new block when it is
   * full) and returns where the room starts in {@link #block}.
   */
  #reserve(bytes: number): number {
    let block = this.#block;
    if (this.#used + bytes > block.length) {
      this.#handOver();
      // Handed-over bytes belong to the socket until written: a full block is never
      // reused, only dropped (the socket keeps it alive while it needs it).
      const size =
        block === NO_BLOCK
          ? FIRST_STAGING_BLOCK_BYTES
          : Math.min(block.length * 2, STAGING_BLOCK_BYTES);
      block = Buffer.allocUnsafe(Math.max(size, bytes));
      this.#block = block;
      this.#sent = 0;
      this.#used = 0;
    }
    const at = this.#used;
    this.#used += bytes;
    return at;
  }

  #stage(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const at = this.#reserve(bytes.length);
    this.#block.set(bytes, at);
  }

  /**
   * Gives the socket the staged bytes not yet given. Returns false when it is full.
   * `onWritten` (only with bytes staged) is called once those bytes, and everything
   * written before them, are out.
   */
  #handOver(onWritten?: () => void): boolean {
    if (this.#used === this.#sent) return !this.#socket.writableNeedDrain;
    const pending = this.#block.subarray(this.#sent, this.#used);
    this.#sent = this.#used;
    return onWritten === undefined
      ? this.#socket.write(pending)
      : this.#socket.write(pending, () => {
          onWritten();
        });
  }

  /** Holds writes back until the end of this turn of the event loop (or {@link flush}). */
  #batch(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    setImmediate(this.#flushLater);
  }
}
