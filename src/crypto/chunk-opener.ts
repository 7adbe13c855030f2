import { CryptoError, ErrorCode } from "../errors.js";
import { gcmDecrypt } from "./aes-gcm.js";
import { ChunkStream } from "./chunk-counter.js";
import { SEALED_CHUNK_MAX_BYTES, TAG_BYTES } from "./constants.js";

/** Bytes of the smallest sealed final chunk: the tag of an empty plaintext. */
const MIN_SEALED_LAST_BYTES = TAG_BYTES;
/** Bytes of the smallest sealed non-final chunk: one plaintext byte and the tag. */
const MIN_SEALED_CHUNK_BYTES = TAG_BYTES + 1;

/**
 * Decrypts and authenticates the chunks produced by {@link ChunkSealer}, in order.
 *
 * Each chunk's nonce encodes its position and whether it is the final one, so a chunk
 * that was altered, moved, or given the wrong final flag fails authentication, a stream
 * cut short cannot pass an earlier chunk off as its final one, and a chunk after the
 * final one is refused as trailing data. Only verified plaintext is ever returned.
 *
 * The opener cannot tell a stream that stopped between two chunks from one with more to
 * come: that is for its caller's framing to say. In gb-transfer every item's data ends
 * with a LAST_CHUNK, and a connection that ends before it is TRUNCATED [S-END].
 * {@link finished} tells whether the final chunk has been opened.
 *
 * After any failure the opener stays failed: every later call throws the same error.
 */
export class ChunkOpener extends ChunkStream {
  #error: CryptoError | undefined;
  /** Where a chunk split across socket reads is joined; made on first need. */
  #joined: Buffer | undefined;

  /**
   * Opens the next chunk, given as consecutive pieces (`length` bytes in all) as a socket
   * delivered it: the ciphertext followed by its 16-byte tag. The pieces may be views into
   * larger buffers; they are not retained.
   *
   * @param last true when the sender marked this chunk as the item's final chunk.
   * @returns the chunk's plaintext, after its tag verified.
   * @throws {CryptoError} DECRYPT_FAILED when the chunk is too short or too long (a
   *   non-final chunk under 17 bytes, a final one under 16: [F-SEALED-MIN]), follows the
   *   final chunk, or fails authentication (wrong key, altered, reordered or truncated
   *   data, wrong final flag), or when an earlier chunk failed.
   */
  openParts(parts: readonly Uint8Array[], length: number, last: boolean): Buffer {
    if (this.#error) throw this.#error;
    try {
      return this.#open(parts, length, last);
    } catch (error) {
      if (error instanceof CryptoError) this.#error = error;
      throw error;
    }
  }

  /**
   * A chunk split across pieces is first copied into one reused buffer: one call to the
   * cipher then returns the plaintext as one new buffer instead of one per piece (and
   * no piece is too short to be written by reference). This halves the buffers Node
   * allocates, which the garbage collector frees only in batches of tens of MB; peak
   * memory of a server receiving encrypted files drops by about 10 MB.
   */
  #contiguous(parts: readonly Uint8Array[], length: number): Uint8Array {
    const [only] = parts;
    if (parts.length === 1 && only !== undefined) return only;
    const joined = (this.#joined ??= Buffer.allocUnsafe(SEALED_CHUNK_MAX_BYTES));
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return joined.subarray(0, length);
  }

  #open(parts: readonly Uint8Array[], length: number, last: boolean): Buffer {
    const index = this.counter.index;
    if (this.counter.finished) {
      throw new CryptoError(
        ErrorCode.DECRYPT_FAILED,
        `trailing data after the final chunk (chunk ${index})`,
      );
    }
    // [F-SEALED-MIN] Refused by length alone, before any decryption: an empty non-final
    // chunk (the sealer never makes one) would let a stream grow without bound with no
    // plaintext, and anything shorter than a tag cannot have been sealed.
    const minimum = last ? MIN_SEALED_LAST_BYTES : MIN_SEALED_CHUNK_BYTES;
    if (length < minimum || length > SEALED_CHUNK_MAX_BYTES) {
      throw new CryptoError(
        ErrorCode.DECRYPT_FAILED,
        `${last ? "final " : ""}chunk ${index} is ${length} bytes; a sealed ${last ? "final" : "non-final"} chunk is ${minimum}..${SEALED_CHUNK_MAX_BYTES} bytes`,
      );
    }
    const counter = this.counter;
    let plaintext: Buffer;
    try {
      plaintext = gcmDecrypt(counter.key, counter.nonce(last), this.#contiguous(parts, length));
    } catch (error) {
      throw new CryptoError(
        ErrorCode.DECRYPT_FAILED,
        `chunk ${index}${last ? " (final)" : ""} failed authentication: wrong key, or the data was altered, reordered or truncated`,
        { cause: error },
      );
    }
    counter.advance(last);
    return plaintext;
  }
}
