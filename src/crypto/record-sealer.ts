import { ErrorCode, InternalError } from "../errors.js";
import { MAX_RECORD_PLAINTEXT_BYTES, RECORD_HEADER_BYTES } from "./constants.js";
import type { CipherState } from "./noise/cipher-state.js";
import { TAG_BYTES } from "./noise/constants.js";

/**
 * Records whose plaintext is under this many bytes are sealed into one buffer with their
 * header (one allocation); larger ones are sealed piece by piece, nothing copied.
 */
const SEAL_INTO_ONE_BELOW_BYTES = 4 * 1024;

const NO_AD = new Uint8Array(0);

/**
 * Seals one direction's frame stream into records [R-RECORD]: `length (u16) ||
 * ciphertext`, the ciphertext a Noise transport message of the direction's CipherState
 * with empty associated data. Its counter nonce orders the records: a record dropped,
 * replayed or moved fails at the receiver.
 */
export class RecordSealer {
  readonly #cipher: CipherState;

  constructor(cipher: CipherState) {
    this.#cipher = cipher;
  }

  /**
   * Seals `pieces` (consecutive plaintext, `plaintextBytes` in all) as one record.
   * @returns the record as buffers to write in order: the plaintext is not copied when
   *   it is large, and no piece is retained.
   * @throws {InternalError} INTERNAL when the plaintext is empty or over 65519 bytes (a
   *   bug in the caller), or the nonce is exhausted.
   */
  seal(pieces: readonly Uint8Array[], plaintextBytes: number): Buffer[] {
    // [R-RECORD] no empty record: a peer could otherwise send records forever that
    // carry nothing.
    if (plaintextBytes < 1 || plaintextBytes > MAX_RECORD_PLAINTEXT_BYTES) {
      throw new InternalError(
        ErrorCode.INTERNAL,
        `a record carries 1 to ${MAX_RECORD_PLAINTEXT_BYTES} bytes, not ${plaintextBytes}`,
      );
    }
    const length = plaintextBytes + TAG_BYTES;
    if (plaintextBytes < SEAL_INTO_ONE_BELOW_BYTES) {
      const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + length);
      record.writeUInt16BE(length, 0);
      this.#cipher.encryptWithAdInto(NO_AD, pieces, record, RECORD_HEADER_BYTES);
      return [record];
    }
    const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
    header.writeUInt16BE(length, 0);
    const { ciphertext, tag } = this.#cipher.encryptPiecesWithAd(NO_AD, pieces);
    return [header, ...ciphertext, tag];
  }
}
