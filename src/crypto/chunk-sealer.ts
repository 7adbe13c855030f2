import { ErrorCode, InternalError } from "../errors.js";
import { gcmEncrypt } from "./aes-gcm.js";
import { ChunkStream } from "./chunk-counter.js";
import { CHUNK_PLAINTEXT_BYTES } from "./constants.js";

/**
 * Encrypts an item's payload as a sequence of chunks: AES-256-GCM under the item's
 * payload key, chunk `i` under the nonce `baseNonce XOR (i as 11 bytes BE || lastFlag)`
 * (see writeChunkNonce), no associated data. Pair with {@link ChunkOpener}.
 *
 * A non-final chunk carries 1..65536 plaintext bytes; the final one 0..65536, so an
 * empty item is a single empty final chunk. Exactly one chunk must be marked last.
 */
export class ChunkSealer extends ChunkStream {
  /**
   * Seals the next chunk. Returns its ciphertext (as long as `plaintext`) and its 16-byte
   * tag separately, so the caller can write both without copying them into one buffer;
   * on the wire the tag directly follows the ciphertext.
   *
   * @param last true for the final chunk of the item.
   * @throws {GbError} INTERNAL when called after the final chunk, or with more than
   *   65536 bytes, or with an empty non-final chunk (all bugs in the caller).
   */
  seal(plaintext: Uint8Array, last: boolean): [ciphertext: Buffer, tag: Buffer] {
    const counter = this.counter;
    if (counter.finished) {
      throw new InternalError(ErrorCode.INTERNAL, "cannot seal a chunk after the final chunk");
    }
    if (plaintext.length > CHUNK_PLAINTEXT_BYTES) {
      throw new InternalError(
        ErrorCode.INTERNAL,
        `chunk of ${plaintext.length} bytes exceeds ${CHUNK_PLAINTEXT_BYTES} bytes`,
      );
    }
    if (plaintext.length === 0 && !last) {
      throw new InternalError(ErrorCode.INTERNAL, "only the final chunk may be empty");
    }
    const sealed = gcmEncrypt(counter.key, counter.nonce(last), plaintext);
    counter.advance(last);
    return sealed;
  }
}
