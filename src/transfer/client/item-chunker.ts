import { createHash, type Hash } from "node:crypto";
import { sha256Hex } from "../../crypto/sha256-hex.js";
import type { FrameWriter } from "../../framing/frame-writer.js";
import { FrameType, MAX_CHUNK_FRAME_BYTES } from "../../protocol/constants.js";
import { itemHeaderText } from "../../protocol/messages.js";

/** The most item data one chunk carries: 64 KiB [F-CHUNK]. */
const CHUNK_BYTES = MAX_CHUNK_FRAME_BYTES;
import type { ItemSlot } from "./item-slot.js";

const NO_BYTES = new Uint8Array(0);

export interface ChunkerOptions {
  /** Called as plaintext bytes go out, with the running total. */
  readonly onProgress?: ((bytesSent: number) => void) | undefined;
  /**
   * Whether to compute the SHA-256 of the item's data (default true). [K-RECEIPT-SESSION]
   * An encrypted session does not: its records already prove that the server received
   * exactly what was sent, and the client takes the digest from the server's receipt.
   */
  readonly digest?: boolean | undefined;
  /**
   * Gives back the memory under a piece given to {@link ItemChunker.add} once nothing
   * refers to it any more (its last chunk was copied, sealed into a record, or handed to
   * the kernel).
   */
  readonly recycle?: ((piece: Uint8Array) => void) | undefined;
}

/**
 * Writes one item to the wire: its ITEM frame, then its data cut into chunks of at most
 * 64 KiB [F-CHUNK], the last of them in a LAST_CHUNK frame [F-LAST]. (In an encrypted
 * session the frame writer's sink seals the whole frame stream into records.) Dictionaries and streamed files go
 * through the same cutting: the last chunk seen is held back until the next piece, or
 * the end, shows whether it ends the item.
 *
 * As the data goes out it sets the item's byte count and, with its LAST_CHUNK, marks it
 * sent and sets its SHA-256 (unless told not to compute one) on the {@link ItemSlot}.
 */
export class ItemChunker {
  readonly #writer: FrameWriter;
  readonly #slot: ItemSlot;
  readonly #onProgress: ((bytesSent: number) => void) | undefined;
  readonly #recycle: ((piece: Uint8Array) => void) | undefined;
  readonly #digest: boolean;
  /** Made for streamed data only: a whole payload is hashed in one shot. */
  #hash: Hash | undefined;
  #held: Uint8Array | undefined;
  /** The piece {@link #held} is the last chunk of, to recycle once it is written. */
  #heldPiece: Uint8Array | undefined;
  /**
   * The data a full chunk carries: 64 KiB, or in records as much as makes its frame fill
   * one record exactly [R-ALIGN] (65514 bytes), so that every frame is sealed whole.
   */
  readonly #chunkBytes: number;

  private constructor(writer: FrameWriter, slot: ItemSlot, options: ChunkerOptions) {
    this.#writer = writer;
    this.#chunkBytes = Math.min(CHUNK_BYTES, writer.payloadBytesPerRecord ?? CHUNK_BYTES);
    this.#slot = slot;
    this.#onProgress = options.onProgress;
    this.#recycle = options.recycle;
    this.#digest = options.digest ?? true;
  }

  /** Writes the ITEM frame of `slot` [M-ITEM] and returns the chunker of its data. */
  static begin(writer: FrameWriter, slot: ItemSlot, options: ChunkerOptions = {}): ItemChunker {
    const meta = slot.meta;
    const header = meta.kind === "files" ? { id: slot.id, meta } : { id: slot.id, meta };
    writer.writeTextFrame(FrameType.ITEM, itemHeaderText(header));
    return new ItemChunker(writer, slot, options);
  }

  /**
   * Writes a whole item held in memory (a dictionary), LAST_CHUNK included: its bytes
   * are already in memory, so the frames only take views of them.
   */
  writeWhole(payload: Uint8Array | string): void {
    const sha256 = this.#digest ? sha256Hex(payload) : undefined;
    const size =
      this.#slot.meta.size ??
      (typeof payload === "string" ? Buffer.byteLength(payload, "utf8") : payload.length);
    if (typeof payload === "string" && size <= CHUNK_BYTES) {
      // One chunk of text: encoded straight into the frame writer's staging block.
      this.#writer.writeTextFrame(FrameType.LAST_CHUNK, payload);
      this.#slot.bytes = size;
      this.#onProgress?.(size);
    } else {
      this.#cut(typeof payload === "string" ? Buffer.from(payload, "utf8") : payload);
      this.#writeLast();
    }
    this.#slot.sha256 = sha256;
    this.#slot.sent = true;
  }

  /**
   * Adds the next piece of a streamed item's plaintext, of any length: the chunk held so
   * far and every chunk of `piece` but its last are written now.
   * @returns false when the socket's buffer is full: wait for it to drain before adding more.
   */
  add(piece: Uint8Array): boolean {
    if (this.#digest) this.#hash ??= createHash("sha256");
    return this.#cut(piece);
  }

  /**
   * Ends a streamed item: the chunk held back goes out as its LAST_CHUNK (an empty one
   * when there is none), the item is marked sent and its SHA-256 is set.
   * @returns false when the socket's buffer is full, as {@link add}.
   */
  end(): boolean {
    if (this.#digest) this.#hash ??= createHash("sha256");
    const room = this.#writeLast();
    this.#slot.sha256 = this.#hash?.digest("hex");
    this.#slot.sent = true;
    return room;
  }

  /**
   * [RES-RESUME] The item's data starts at byte `from`: the bytes the server kept count
   * as sent (the receipt covers the whole file), and a digest goes on from `prefix`, the
   * SHA-256 of those bytes (a fresh one when `from` is 0).
   */
  resumeAt(from: number, prefix: Hash | undefined): void {
    this.#slot.bytes = from;
    this.#slot.resumed = from;
    if (this.#digest) this.#hash = prefix ?? createHash("sha256");
  }

  /**
   * [K-ABORT] Ends an item the server refused while it was still being sent: the chunk
   * held back is dropped and an empty LAST_CHUNK closes the item [F-LAST] (a server
   * discarding a refused item reads none of its chunks).
   */
  abort(): void {
    this.#held = undefined;
    this.#heldPiece = undefined;
    this.#writer.writeFrame(FrameType.LAST_CHUNK);
  }

  #cut(piece: Uint8Array): boolean {
    if (piece.length === 0) {
      this.#recycle?.(piece);
      return true;
    }
    let room = true;
    const chunkBytes = this.#chunkBytes;
    for (let offset = 0; offset < piece.length; offset += chunkBytes) {
      if (this.#held !== undefined) room = this.#write(this.#held, false, this.#heldPiece);
      this.#held = piece.subarray(offset, offset + chunkBytes);
      this.#heldPiece = offset + chunkBytes >= piece.length ? piece : undefined;
    }
    return room;
  }

  #writeLast(): boolean {
    const held = this.#held ?? NO_BYTES;
    const piece = this.#heldPiece;
    this.#held = undefined;
    this.#heldPiece = undefined;
    return this.#write(held, true, piece);
  }

  /** `ends` is the piece `plaintext` ends, when nothing else refers to it after this. */
  #write(plaintext: Uint8Array, last: boolean, ends: Uint8Array | undefined): boolean {
    this.#hash?.update(plaintext);
    this.#slot.bytes += plaintext.length;
    const type = last ? FrameType.LAST_CHUNK : FrameType.CHUNK;
    const recycle = this.#recycle;
    let room: boolean;
    if (ends !== undefined && recycle !== undefined) {
      room = this.#writer.writeFrameThen(type, plaintext, () => {
        recycle(ends);
      });
    } else {
      room = this.#writer.writeFrame(type, plaintext);
    }
    this.#onProgress?.(this.#slot.bytes);
    return room;
  }
}
