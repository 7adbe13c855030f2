import { CryptoError, ErrorCode } from "../errors.js";
import {
  MAX_RECORD_CIPHERTEXT_BYTES,
  MIN_RECORD_CIPHERTEXT_BYTES,
  RECORD_HEADER_BYTES,
} from "./constants.js";
import type { CipherState } from "./noise/cipher-state.js";

const NO_AD = new Uint8Array(0);

/**
 * Opens the records of one direction [R-RECORD], incrementally: push the bytes a socket
 * delivers, get back the plaintext of every record they complete, in order.
 *
 * Pure and bounded. The 2-byte length is checked before anything of the record is
 * buffered. A record inside one pushed buffer is opened where it lies; one split across
 * reads is gathered into a single 64 KiB buffer, made once and reused, so a peer that
 * dribbles a record a byte at a time makes it hold one buffer, not thousands. Nothing
 * pushed is retained after {@link push} returns.
 *
 * [R-VERIFY] A record's plaintext is returned only once its whole ciphertext has
 * arrived and its tag verified. [R-FAIL] A record that fails (a bad length, or a tag
 * that does not verify: tampering, a record dropped, replayed or reordered, which the
 * counter nonce catches) fails the opener for good: {@link failure} holds the error,
 * the push that met it returns the records verified before it, and every later push
 * throws it.
 */
export class RecordOpener {
  readonly #cipher: CipherState;
  /** The length header being read, when it is split across reads. */
  readonly #header = Buffer.alloc(RECORD_HEADER_BYTES);
  #headerFilled = 0;
  /** The current record's ciphertext length, once its header is in; 0 before. */
  #length = 0;
  /** Where a record split across reads is gathered; made on first need. */
  #gathered: Buffer | undefined;
  #gatheredFilled = 0;
  #error: CryptoError | undefined;

  constructor(cipher: CipherState) {
    this.#cipher = cipher;
  }

  /** The error of the record that failed [R-FAIL], once one has. */
  get failure(): CryptoError | undefined {
    return this.#error;
  }

  /** True when no partial record is held: the stream may end here [R-END]. */
  get atBoundary(): boolean {
    return this.#headerFilled === 0 && this.#length === 0;
  }

  /**
   * Takes received bytes and returns the plaintext of every record they complete, in
   * order. When one of them fails, the plaintext of those before it is returned and
   * {@link failure} is set: check it after every push.
   * @throws {CryptoError} DECRYPT_FAILED when an earlier push met a record that failed.
   */
  push(bytes: Uint8Array): Buffer[] {
    if (this.#error) throw this.#error;
    const plaintexts: Buffer[] = [];
    try {
      this.#push(bytes, plaintexts);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      this.#error = error;
    }
    return plaintexts;
  }

  #push(bytes: Uint8Array, plaintexts: Buffer[]): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.#length === 0) {
        if (this.#headerFilled === 0 && bytes.length - offset >= RECORD_HEADER_BYTES) {
          this.#begin(((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0));
          offset += RECORD_HEADER_BYTES;
        } else {
          this.#header[this.#headerFilled++] = bytes[offset++] ?? 0;
          if (this.#headerFilled === RECORD_HEADER_BYTES) {
            this.#headerFilled = 0;
            this.#begin(this.#header.readUInt16BE(0));
          }
        }
        continue;
      }
      const needed = this.#length - this.#gatheredFilled;
      const available = bytes.length - offset;
      if (this.#gatheredFilled === 0 && available >= needed) {
        // The whole record lies in this buffer: opened in place.
        plaintexts.push(this.#open(bytes.subarray(offset, offset + needed)));
        offset += needed;
        continue;
      }
      const gathered = (this.#gathered ??= Buffer.allocUnsafe(MAX_RECORD_CIPHERTEXT_BYTES));
      const taken = Math.min(needed, available);
      gathered.set(bytes.subarray(offset, offset + taken), this.#gatheredFilled);
      this.#gatheredFilled += taken;
      offset += taken;
      if (this.#gatheredFilled === this.#length) {
        const record = gathered.subarray(0, this.#length);
        this.#gatheredFilled = 0;
        plaintexts.push(this.#open(record));
      }
    }
  }

  /** [R-RECORD] A length below 17 cannot be a non-empty record: refused from the header. */
  #begin(length: number): void {
    if (length < MIN_RECORD_CIPHERTEXT_BYTES) {
      throw new CryptoError(
        ErrorCode.DECRYPT_FAILED,
        `a record of ${length} bytes cannot be authentic (${MIN_RECORD_CIPHERTEXT_BYTES} to ${MAX_RECORD_CIPHERTEXT_BYTES})`,
      );
    }
    this.#length = length;
  }

  #open(ciphertext: Uint8Array): Buffer {
    this.#length = 0;
    try {
      return this.#cipher.decryptWithAd(NO_AD, ciphertext);
    } catch (error) {
      throw new CryptoError(
        ErrorCode.DECRYPT_FAILED,
        "a record failed authentication: the connection was tampered with, or records were dropped, replayed or reordered",
        { cause: error },
      );
    }
  }
}
