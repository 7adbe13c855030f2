import { ErrorCode, InternalError, ProtocolError } from "../errors.js";
import { FRAME_HEADER_BYTES, type ParsedFrame } from "./frame.js";
import { PREAMBLE_BYTES, PREAMBLE_MAGIC } from "./preamble.js";

/** What the parser yields: the peer's preamble once, then frames. */
export type ParsedUnit =
  | { readonly kind: "preamble"; readonly version: number }
  | { readonly kind: "frame"; readonly frame: ParsedFrame };

/**
 * Maximum payload length per frame type, in bytes. A type missing from the map is
 * unknown and refused.
 */
export type FrameLimits = ReadonlyMap<number, number>;

type State = "preamble" | "header" | "payload" | "failed";

/**
 * Pushed buffers shorter than this are copied into a staging block rather than kept by
 * reference: a peer that sends a frame a byte at a time must not make the parser hold a
 * buffer (and its bookkeeping, a hundred bytes and more) per byte.
 */
export const COALESCE_BELOW_BYTES = 4096;
/** The size of a staging block: a largest CHUNK frame, header included, fits in one. */
const STAGING_BYTES = 64 * 1024 + 16;

/**
 * An incremental frame parser. Feed it bytes as they arrive with {@link push}; take
 * complete units with {@link next}. It refuses an unknown type or an oversize length as
 * soon as the 5-byte header is in, before waiting for (or allocating) the payload
 * [F-LIMIT].
 *
 * It keeps the buffers pushed to it until the units they hold have been taken: the pieces
 * of a frame still arriving wait until the frame is complete, and whatever follows a
 * complete frame waits for the next call to {@link next}. Large buffers are kept by
 * reference; small ones are copied into staging blocks of 64 KiB, so that however the
 * bytes are split it holds a handful of buffers per frame, not one per read
 * ({@link bufferedChunks}) [F-COALESCE]. So it holds what its caller pushed and did not yet
 * take; the caller bounds that by taking units as they complete, or by no longer reading
 * its socket while it cannot (a server session waiting for the disk pauses its socket
 * once {@link bufferedBytes} reach a largest frame).
 *
 * After an error the parser stays failed: every later call throws the same error.
 */
export class FrameParser {
  readonly #limits: FrameLimits;
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  /** The block small pushes are copied into, its bytes in use, and its view in #chunks. */
  #staging: Buffer | undefined;
  #stagingUsed = 0;
  #stagingView: Buffer | undefined;
  #state: State;
  #type = 0;
  #length = 0;
  #error: ProtocolError | undefined;

  constructor(limits: FrameLimits, options: { expectPreamble: boolean }) {
    this.#limits = limits;
    this.#state = options.expectPreamble ? "preamble" : "header";
  }

  /** Bytes received but not yet returned as part of a unit. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Buffers held: a few per frame, however the bytes were split [F-COALESCE]. */
  get bufferedChunks(): number {
    return this.#chunks.length;
  }

  /** True when no partial unit is buffered: the stream may end here cleanly. */
  get atBoundary(): boolean {
    return this.#buffered === 0 && this.#state === "header";
  }

  /**
   * Appends received bytes. The parser keeps a reference until the bytes are taken as
   * part of a unit; the caller must not reuse the buffer.
   */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#buffered += chunk.length;
    if (chunk.length >= COALESCE_BELOW_BYTES) {
      this.#chunks.push(chunk);
      return;
    }
    // [F-COALESCE] A small read is copied to the end of the staging block. Views of the
    // block already handed out stay valid: it is only ever appended to, never reused.
    let staging = this.#staging;
    if (staging === undefined || this.#stagingUsed + chunk.length > staging.length) {
      staging = Buffer.allocUnsafeSlow(STAGING_BYTES);
      this.#staging = staging;
      this.#stagingUsed = 0;
      this.#stagingView = undefined;
    }
    chunk.copy(staging, this.#stagingUsed);
    const last = this.#chunks.length - 1;
    const view = this.#stagingView;
    if (view !== undefined && last >= 0 && this.#chunks[last] === view) {
      // The block's bytes still buffered are the last chunk: it grows in place.
      const start = view.byteOffset - staging.byteOffset;
      this.#stagingUsed += chunk.length;
      this.#stagingView = staging.subarray(start, this.#stagingUsed);
      this.#chunks[last] = this.#stagingView;
    } else {
      const start = this.#stagingUsed;
      this.#stagingUsed += chunk.length;
      this.#stagingView = staging.subarray(start, this.#stagingUsed);
      this.#chunks.push(this.#stagingView);
    }
  }

  /**
   * Hands over the bytes received but not yet parsed, and forgets them: at a frame
   * boundary, when the connection switches from frames to records [R-RECORD], what
   * follows the last frame is record bytes, for the record opener. The parser then goes
   * on with the plaintext its caller pushes back.
   * @throws {InternalError} INTERNAL when a frame is partly parsed (a bug in the caller).
   */
  takeBuffered(): Buffer[] {
    if (this.#state !== "header") {
      throw new InternalError(ErrorCode.INTERNAL, "the parser is in the middle of a unit");
    }
    const taken = this.#chunks.splice(0);
    this.#buffered = 0;
    // The bytes taken must not grow: later pushes start a view of their own.
    this.#stagingView = undefined;
    return taken;
  }

  /**
   * Returns the next complete unit, or undefined when more bytes are needed.
   * @throws {ProtocolError} BAD_PREAMBLE, UNKNOWN_FRAME_TYPE or FRAME_TOO_LARGE.
   */
  next(): ParsedUnit | undefined {
    if (this.#error) throw this.#error;
    try {
      return this.#step();
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.#state = "failed";
        this.#error = error;
      }
      throw error;
    }
  }

  #step(): ParsedUnit | undefined {
    switch (this.#state) {
      case "preamble": {
        if (this.#buffered < PREAMBLE_BYTES) return undefined;
        const preamble = this.#consume(PREAMBLE_BYTES);
        // [P-PREAMBLE] the first six bytes must be the magic.
        if (!preamble.subarray(0, PREAMBLE_MAGIC.length).equals(PREAMBLE_MAGIC)) {
          throw new ProtocolError(
            ErrorCode.BAD_PREAMBLE,
            "the peer does not speak the gb-transfer protocol (bad preamble)",
          );
        }
        this.#state = "header";
        return { kind: "preamble", version: preamble.readUInt16BE(PREAMBLE_MAGIC.length) };
      }
      case "header": {
        if (this.#buffered < FRAME_HEADER_BYTES) return undefined;
        const header = this.#consume(FRAME_HEADER_BYTES);
        const type = header.readUInt8(0);
        const length = header.readUInt32BE(1);
        const limit = this.#limits.get(type);
        // [F-TYPE] unknown types are refused; [F-LIMIT] the limit is checked on the header.
        if (limit === undefined) {
          throw new ProtocolError(
            ErrorCode.UNKNOWN_FRAME_TYPE,
            `unknown or unexpected frame type 0x${type.toString(16).padStart(2, "0")}`,
          );
        }
        if (length > limit) {
          throw new ProtocolError(
            ErrorCode.FRAME_TOO_LARGE,
            `frame of type 0x${type.toString(16).padStart(2, "0")} declares ${length} bytes; the limit is ${limit}`,
          );
        }
        this.#type = type;
        this.#length = length;
        this.#state = "payload";
        return this.#step();
      }
      case "payload": {
        if (this.#buffered < this.#length) return undefined;
        const frame = new ReceivedFrame(this.#type, this.#consumeParts(this.#length), this.#length);
        this.#state = "header";
        return { kind: "frame", frame };
      }
      case "failed":
        return undefined;
    }
  }

  /** Takes exactly `n` buffered bytes as views into the received chunks, never copying. */
  #consumeParts(n: number): Buffer[] {
    this.#buffered -= n;
    const parts: Buffer[] = [];
    let remaining = n;
    while (remaining > 0) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) break;
      if (remaining >= chunk.length) {
        this.#chunks.shift();
        parts.push(chunk);
        remaining -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, remaining));
        const rest = chunk.subarray(remaining);
        this.#chunks[0] = rest;
        // What is left of the staging block's view is still the one that may grow.
        if (chunk === this.#stagingView) this.#stagingView = rest;
        remaining = 0;
      }
    }
    return parts;
  }

  /** Takes exactly `n` buffered bytes; zero-copy when they lie in one received chunk. */
  #consume(n: number): Buffer {
    return joinParts(this.#consumeParts(n), n);
  }
}

/** A parsed frame; its contiguous payload is built only if someone asks for it. */
class ReceivedFrame implements ParsedFrame {
  readonly type: number;
  readonly parts: readonly Buffer[];
  readonly length: number;
  #payload: Buffer | undefined;

  constructor(type: number, parts: readonly Buffer[], length: number) {
    this.type = type;
    this.parts = parts;
    this.length = length;
  }

  get payload(): Buffer {
    this.#payload ??= joinParts(this.parts, this.length);
    return this.#payload;
  }
}

/** `parts` (`length` bytes in all) as one buffer: the part itself when there is one. */
function joinParts(parts: readonly Buffer[], length: number): Buffer {
  const [only] = parts;
  return parts.length === 1 && only !== undefined ? only : Buffer.concat(parts, length);
}
