import { createCipheriv, createSecretKey, type KeyObject } from "node:crypto";
import { ErrorCode, GbError } from "../errors.js";
import { assertByteLength } from "./assert-byte-length.js";
import { AES_KEY_BYTES, CHUNK_PLAINTEXT_BYTES, NONCE_BYTES, TAG_BYTES } from "./constants.js";
import { writeChunkNonce } from "./chunk-nonce.js";

/**
 * Encrypts an item's payload as a sequence of chunks: AES-256-GCM under the item's
 * payload key, chunk `i` under the nonce `baseNonce XOR (i as 11 bytes BE || lastFlag)`
 * (see {@link writeChunkNonce}), no associated data. Pair with {@link ChunkOpener}.
 *
 * A non-final chunk carries 1..65536 plaintext bytes; the final one 0..65536, so an
 * empty item is a single empty final chunk. Exactly one chunk must be marked last.
 */
export class ChunkSealer {
  readonly #key: KeyObject;
  readonly #baseNonce: Buffer;
  // GCM needs a fresh nonce per chunk, so one Cipheriv per chunk; the nonce buffer is
  // reused because createCipheriv copies the IV.
  readonly #nonce = Buffer.alloc(NONCE_BYTES);
  #index = 0;
  #finished = false;

  /**
   * @param payloadKey the item's payloadKey (32 bytes), from deriveItemKeys.
   * @param baseNonce the item's baseNonce (12 bytes), from deriveItemKeys.
   * @throws {GbError} INTERNAL when a length is wrong (a bug in the caller).
   */
  constructor(payloadKey: Uint8Array, baseNonce: Uint8Array) {
    assertByteLength(payloadKey, AES_KEY_BYTES, "a payload key");
    assertByteLength(baseNonce, NONCE_BYTES, "a base nonce");
    // Copies both, so a caller that later wipes or reuses its buffers cannot affect us.
    this.#key = createSecretKey(payloadKey);
    this.#baseNonce = Buffer.from(baseNonce);
  }

  /** True once the final chunk has been sealed. */
  get finished(): boolean {
    return this.#finished;
  }

  /** The number of the next chunk to seal (chunks are numbered from 0). */
  get chunkIndex(): number {
    return this.#index;
  }

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
    if (this.#finished) {
      throw new GbError(ErrorCode.INTERNAL, "cannot seal a chunk after the final chunk");
    }
    if (plaintext.length > CHUNK_PLAINTEXT_BYTES) {
      throw new GbError(
        ErrorCode.INTERNAL,
        `chunk of ${plaintext.length} bytes exceeds ${CHUNK_PLAINTEXT_BYTES} bytes`,
      );
    }
    if (plaintext.length === 0 && !last) {
      throw new GbError(ErrorCode.INTERNAL, "only the final chunk may be empty");
    }
    writeChunkNonce(this.#nonce, this.#baseNonce, this.#index, last);
    const cipher = createCipheriv("aes-256-gcm", this.#key, this.#nonce, {
      authTagLength: TAG_BYTES,
    });
    const ciphertext = cipher.update(plaintext);
    // GCM is a stream mode: final() returns no bytes, it only computes the tag.
    cipher.final();
    const tag = cipher.getAuthTag();
    this.#index += 1;
    this.#finished = last;
    return [ciphertext, tag];
  }
}
