import { createHash, type Hash } from "node:crypto";
import { sha256Hex } from "../../crypto/sha256-hex.js";
import {
  CodecError,
  ErrorCode,
  IntegrityError,
  InternalError,
  ProtocolError,
  RefusedError,
} from "../../errors.js";
import type { ItemHeader, ItemMeta } from "../../protocol/messages.js";
import type { FileNamingTurn, PendingFile, StoredDigest } from "./item-store.js";
import type { SessionContext } from "./session-context.js";
import type { TreeJournal } from "./tree-journal.js";
import type { StoredPlace } from "./tree-placement.js";

/** SHA-256 of no bytes: an item hashed as it arrives whose data was empty. */
const EMPTY_SHA256 = sha256Hex(new Uint8Array(0));

/** What admitting an item needs from the server. */
export type AdmissionContext = Pick<
  SessionContext,
  "dictLimits" | "previewBytes" | "reserveDictBytes" | "releaseDictBytes" | "inlineDictBytes"
>;

/**
 * An item being received: its metadata, the running count and hash of its data, a dictionary's buffer (reserved against the
 * server's budget) or a file's partial copy on disk, and a file's first bytes for
 * display. It checks every chunk as it arrives; the session decides what a failure ends.
 *
 * What it holds is released exactly once, by {@link release}, however the item ends.
 */
export class InboundItem {
  /** The item's id within its connection. */
  readonly id: number;
  readonly meta: ItemMeta;
  /**
   * For an entry of a tree on a server that saves: a file's directory, or the directory
   * a directory entry stands for [T-PLACE]; set once its directories exist.
   */
  place: StoredPlace | null = null;
  /** [RES-JOURNAL] The journal of the tree the entry belongs to, when it resumes. */
  journal: TreeJournal | undefined;
  /**
   * Running SHA-256 of a file or a large dictionary, chunk by chunk as it arrives; a small
   * dictionary is hashed whole once complete (one call costs it less than a hash object).
   * Hashing 16 MiB at once would hold up the event loop for tens of ms. Made with the
   * first chunk: a directory, an empty file or a file held in memory needs none.
   */
  #hash: Hash | undefined;
  /** Whether the data is hashed as it arrives ({@link #hash}) rather than whole at the end. */
  #hashStreamed: boolean;
  readonly #previewBytes: number;
  readonly #releaseDictBytes: (bytes: number) => void;
  #bytes = 0;
  /**
   * Dictionary payload (dictionaries only): allocated at the declared size, which was
   * reserved against the server's dictionary budget, and filled by copying each chunk,
   * so a peer sending tiny chunks cannot make the server hold millions of buffers.
   */
  #dict: Buffer | undefined;
  /**
   * Bytes this item holds against the server's dictionary budget: its declared size from
   * admission, and what its decoding handed back, until the item ends [V-DICT-WORK].
   */
  #heldDictBytes = 0;
  /**
   * A small file's bytes, held in memory until the small-file writer stores them, instead
   * of a partial file on disk: allocated at the declared size, reserved against the
   * writer's budget, and filled as a dictionary's are.
   */
  #fileBytes: Buffer | undefined;
  /** Gives {@link #fileBytes}'s reservation back, once. */
  #releaseFileBytes: (() => void) | undefined;
  /** The file being written (when saving), until it is committed or discarded. */
  #file: PendingFile | undefined;
  readonly #preview: Buffer[] = [];
  #previewLength = 0;
  #released = false;
  /** The item ended with its connection: a resumable partial is kept [RES-FAIL]. */
  #keep = false;
  /**
   * Aborts when the item ends, so that work done for it elsewhere can stop; made only
   * when asked for (a worker's job), as most items never need one.
   */
  #ended: AbortController | undefined;

  private constructor(id: number, meta: ItemMeta, context: AdmissionContext) {
    this.id = id;
    this.meta = meta;
    this.#hashStreamed = !(meta.kind === "dict" && meta.size <= context.inlineDictBytes);
    if (meta.kind === "dict") {
      // A dictionary for a worker gets a buffer of its own, which can be moved to it
      // rather than copied; a small one may share Node's pool.
      this.#dict =
        meta.size > context.inlineDictBytes
          ? Buffer.allocUnsafeSlow(meta.size)
          : Buffer.allocUnsafe(meta.size);
      this.#heldDictBytes = meta.size;
    }
    this.#previewBytes = context.previewBytes;
    this.#releaseDictBytes = context.releaseDictBytes;
  }

  /**
   * Admits the item an ITEM frame announced: refuses a dictionary over the limit, and
   * reserves a dictionary's bytes. The caller has checked the header's id; every failure
   * here is the item's alone.
   *
   * @throws {RefusedError} BUSY when the dictionary budget is spent [V-DICT].
   * @throws {CodecError} DICT_TOO_LARGE when a dictionary declares more than the limit.
   */
  static admit(header: ItemHeader, context: AdmissionContext): InboundItem {
    const meta = header.meta;
    if (meta.kind === "dict" && meta.size > context.dictLimits.maxBytes) {
      throw new CodecError(
        ErrorCode.DICT_TOO_LARGE,
        `the dictionary is ${meta.size} bytes; the limit is ${context.dictLimits.maxBytes}`,
      );
    }
    // Last: nothing after it may fail, or the reservation would need undoing here.
    if (meta.kind === "dict" && !context.reserveDictBytes(meta.size)) {
      throw new RefusedError(
        ErrorCode.BUSY,
        "the server is receiving too many dictionaries at once; try again later",
      );
    }
    return new InboundItem(header.id, meta, context);
  }

  /**
   * Holds this file's bytes in memory (`memory`, of its declared size), to be stored
   * whole by the small-file writer, rather than in a partial file; `release` gives the
   * memory's reservation back when the item ends. Call before any chunk, for a file of
   * known size.
   * @throws {GbError} INTERNAL when the item is not a file of known size.
   */
  keepFileInMemory(memory: Buffer, release: () => void): void {
    const size = this.meta.size;
    if (this.meta.kind !== "file" || size !== memory.length || this.#bytes !== 0) {
      throw new InternalError(ErrorCode.INTERNAL, "only a file of known size can be held");
    }
    this.#fileBytes = memory;
    this.#releaseFileBytes = release;
    // Hashed whole once complete: one call costs a small file less than a hash object.
    this.#hashStreamed = false;
  }

  /** True when the file's bytes are held in memory ({@link keepFileInMemory}). */
  get holdsFile(): boolean {
    return this.#fileBytes !== undefined;
  }

  /**
   * A file's bytes held in memory, complete once the item is.
   * @throws {GbError} INTERNAL when none are held.
   */
  fileBytes(): Buffer {
    if (this.#fileBytes === undefined) {
      throw new InternalError(ErrorCode.INTERNAL, "the item holds no file bytes");
    }
    return this.#fileBytes;
  }

  /** Plaintext bytes received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Aborts once the item has ended ({@link release}). */
  get endedSignal(): AbortSignal {
    this.#ended ??= new AbortController();
    if (this.#released) this.#ended.abort();
    return this.#ended.signal;
  }

  /** True once {@link release} has run: the item has ended. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * [F-CHUNK] A non-final CHUNK must not be empty: empty chunks would let a peer keep a
   * connection busy forever while sending nothing. (Over 64 KiB, the frame parser has
   * refused it from its header [F-LIMIT].) Breaking it ends the connection.
   * @throws {ProtocolError} MALFORMED_MESSAGE
   */
  checkChunkLength(length: number, last: boolean): void {
    if (length === 0 && !last) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        "an empty CHUNK (only LAST_CHUNK may be empty)",
      );
    }
  }

  /**
   * Takes the item's next chunk, as the parser delivered it (`parts`, `length` bytes in
   * all): counts and hashes it, copies a dictionary's into its buffer and keeps a file's
   * first bytes, and queues a file's for writing, as the pieces the socket (or the
   * record opener) delivered.
   *
   * @returns a promise when the caller must wait for the disk before the next chunk; it
   *   rejects with STORAGE_FAILED when a write failed.
   * @throws {IntegrityError} SIZE_MISMATCH as soon as more than the declared size arrived [V-SIZE].
   */
  receive(parts: readonly Buffer[], length: number): Promise<void> | undefined {
    this.#bytes += length;
    const declared = this.meta.size;
    if (declared !== null && this.#bytes > declared) {
      throw new IntegrityError(
        ErrorCode.SIZE_MISMATCH,
        `more than the declared ${declared} bytes arrived`,
      );
    }
    const whole = this.#dict ?? this.#fileBytes;
    let offset = this.#bytes - length;
    const hash =
      this.#hashStreamed && length > 0 ? (this.#hash ??= createHash("sha256")) : undefined;
    for (const piece of parts) {
      hash?.update(piece);
      if (whole !== undefined) {
        // bytes <= declared size was checked above, so this copy stays in bounds.
        piece.copy(whole, offset);
        offset += piece.length;
      } else this.#keepPreview(piece);
    }
    return whole === undefined ? this.#file?.write(parts) : undefined;
  }

  /**
   * Gives a file item the file its data is written to; one that has ended discards it,
   * and returns the promise of that (resolved once the file is gone; never rejects).
   */
  attachFile(file: PendingFile): Promise<void> | undefined {
    if (this.#released) return this.#keep ? file.keep() : file.abort();
    this.#file = file;
    return undefined;
  }

  /**
   * [RES-RESUME] The item goes on from byte `from` of the partial the server kept, whose
   * bytes `hash` has taken in: the receipt covers the whole file. A resumed item keeps no
   * preview (its first bytes do not arrive).
   */
  resumeAt(from: number, hash: Hash): void {
    this.#bytes = from;
    this.#hash = hash;
    this.#hashStreamed = true;
    this.#previewLength = this.#previewBytes;
  }

  /** SHA-256 (hex) of the plaintext received, for the receipt: once, when the item is complete. */
  sha256(): string {
    if (this.#hash !== undefined) return this.#hash.digest("hex");
    if (this.#hashStreamed) return EMPTY_SHA256;
    return sha256Hex(this.#fileBytes ?? this.dictBytes());
  }

  /**
   * A dictionary's bytes as received: the declared size once the item is complete.
   * @throws {GbError} INTERNAL when the item is not a dictionary, or its buffer was released.
   */
  dictBytes(): Buffer {
    if (this.#dict === undefined) {
      throw new InternalError(ErrorCode.INTERNAL, "the item holds no dictionary bytes");
    }
    return this.#dict;
  }

  /**
   * Hands a dictionary's bytes over (to a worker, which takes them) and forgets them.
   * They stay counted against the budget until the item ends: the worker holds them, and
   * what it builds from them, until the item is stored [V-DICT-WORK].
   * @throws {GbError} INTERNAL when the item is not a dictionary, or its bytes were taken.
   */
  takeDictBytes(): Buffer {
    const bytes = this.dictBytes();
    this.#dict = undefined;
    return bytes;
  }

  /** Counts `bytes` more against the dictionary budget, until the item ends. */
  hold(bytes: number): void {
    this.#heldDictBytes += bytes;
  }

  /** A file's first bytes, kept for display; undefined for a dictionary. */
  preview(): Buffer | undefined {
    if (this.meta.kind !== "file") return undefined;
    const held = this.#fileBytes;
    // A copy: the held bytes go once the item ends, the preview may stay with a listener.
    if (held !== undefined) return Buffer.from(held.subarray(0, this.#previewBytes));
    return Buffer.concat(this.#preview, this.#previewLength);
  }

  /**
   * Gives the item's file its final name [V-ATOMIC], once `turn` resolves (the items
   * before it are named), and returns that name and its directory.
   * @throws {StorageError} STORAGE_FAILED
   * @throws {GbError} INTERNAL when the item has no file (a bug).
   */
  async commitFile(
    turn: FileNamingTurn,
    stored?: StoredDigest,
  ): Promise<{ name: string; directory: string }> {
    const file = this.#file;
    if (file === undefined) {
      throw new InternalError(ErrorCode.INTERNAL, "the item has no file to store");
    }
    // Committed or failed, the file is no longer the item's to discard: a failed commit
    // removes its own temporary file.
    this.#file = undefined;
    return { name: await file.commit(turn, stored), directory: file.directory };
  }

  /**
   * Releases what the item still holds: its dictionary reservation, at once, and its
   * partial file, discarded (never stored), or kept when `keep` and the item asked to
   * resume [RES-FAIL]. The first call marks the item ended; later calls do nothing.
   * Resolves once the partial file is gone or kept; never rejects.
   */
  release(keep = false): Promise<void> | undefined {
    if (this.#released) return undefined;
    this.#released = true;
    this.#keep = keep;
    this.#ended?.abort();
    this.#dict = undefined;
    this.#fileBytes = undefined;
    this.#releaseFileBytes?.();
    this.#releaseFileBytes = undefined;
    if (this.#heldDictBytes > 0) this.#releaseDictBytes(this.#heldDictBytes);
    this.#heldDictBytes = 0;
    const file = this.#file;
    this.#file = undefined;
    return keep ? file?.keep() : file?.abort();
  }

  #keepPreview(plaintext: Buffer): void {
    const room = this.#previewBytes - this.#previewLength;
    if (room <= 0) return;
    // Copy: the chunk may be a view into a socket buffer that is reused.
    const kept = Buffer.from(plaintext.subarray(0, room));
    this.#preview.push(kept);
    this.#previewLength += kept.length;
  }
}
