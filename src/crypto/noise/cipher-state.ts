import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type CipherGCM,
  type KeyObject,
} from "node:crypto";
import { CryptoError, ErrorCode, InternalError } from "../../errors.js";
import { assertByteLength } from "../assert-byte-length.js";
import {
  CIPHER_KEY_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_TRANSPORT_PLAINTEXT_BYTES,
  NONCE_BYTES,
  NONCE_COUNTER_OFFSET,
  RESERVED_NONCE,
  TAG_BYTES,
} from "./constants.js";

const CIPHER = "aes-256-gcm";

/** REKEY encrypts 32 zero bytes (§4.2). */
const REKEY_PLAINTEXT = Buffer.alloc(CIPHER_KEY_BYTES);

/** A message encrypted from pieces: ciphertext pieces, then the tag that follows them. */
export interface SealedPieces {
  /** The ciphertext, one piece per non-empty plaintext piece, in order. */
  readonly ciphertext: Buffer[];
  /** The 16-byte tag; on the wire it directly follows the ciphertext. */
  readonly tag: Buffer;
}

/**
 * The CipherState object of §5.1 with the `AESGCM` cipher functions of §12.4: a key `k`
 * (possibly empty) and a 64-bit nonce `n`.
 *
 * During a handshake it belongs to the SymmetricState; after Split() each direction of
 * the transport has its own, and it is the record layer of the session: every transport
 * message is one encryption / `decryptWithAd` with zero-length `ad` (§5).
 *
 * Encryption comes three ways. `encryptPiecesWithAd` suits large records, written by
 * reference in a vectored write; `encryptWithAdInto` suits small ones, staged next to
 * their header. In CPU time on full-size messages, pieces cost what a bare AES-GCM pass
 * does, writing into a buffer up to 17 % more (one copy), `encryptWithAd` (whole, joined)
 * about 15 % more, and 70 to 140 % more when its input must first be joined too
 * (test/crypto/noise/cipher-state.bench.ts).
 */
export class CipherState {
  #key: KeyObject | undefined;
  #n = 0n;
  // GCM needs a fresh nonce per message, hence a cipher object per message; the nonce
  // buffer is reused because createCipheriv copies the IV.
  readonly #nonce = Buffer.alloc(NONCE_BYTES);

  /**
   * InitializeKey(key): sets `k = key` (copied; `undefined` is `empty`) and `n = 0`.
   * @throws {InternalError} INTERNAL when `key` is not 32 bytes.
   */
  initializeKey(key: Uint8Array | undefined): void {
    if (key !== undefined) assertByteLength(key, CIPHER_KEY_BYTES, "a cipher key");
    this.#key = key === undefined ? undefined : createSecretKey(key);
    this.#n = 0n;
  }

  /** HasKey(): true when `k` is not empty. */
  hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The nonce `n` the next message will use. */
  get nonce(): bigint {
    return this.#n;
  }

  /**
   * SetNonce(nonce): sets `n` (§5.1, for out-of-order transport messages, §11.4).
   * @throws {InternalError} INTERNAL when `nonce` is not a 64-bit unsigned integer.
   */
  setNonce(nonce: bigint): void {
    if (nonce < 0n || nonce > RESERVED_NONCE) {
      throw new InternalError(
        ErrorCode.INTERNAL,
        `nonce ${nonce} is not a 64-bit unsigned integer`,
      );
    }
    this.#n = nonce;
  }

  /**
   * EncryptWithAd(ad, plaintext): with a key, ENCRYPT(k, n++, ad, plaintext), the
   * ciphertext followed by its 16-byte tag, as one new buffer; without a key, a copy of
   * `plaintext`.
   * @throws {InternalError} INTERNAL when the nonce is exhausted [N-NONCE-MAX] or the
   *   result would exceed a Noise message [N-MSG-MAX].
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    if (this.#key === undefined) return Buffer.from(plaintext);
    const { ciphertext, tag } = this.encryptPiecesWithAd(ad, [plaintext]);
    return Buffer.concat([...ciphertext, tag]);
  }

  /**
   * EncryptWithAd(ad, plaintext) of a plaintext given as consecutive pieces, for the
   * record layer: nothing is joined, so a caller can hand the ciphertext pieces and the
   * tag straight to a vectored write.
   * @throws {InternalError} INTERNAL when there is no key (a transport CipherState always
   *   has one), the nonce is exhausted [N-NONCE-MAX], or the pieces and the tag would
   *   exceed a Noise message [N-MSG-MAX].
   */
  encryptPiecesWithAd(ad: Uint8Array, pieces: readonly Uint8Array[]): SealedPieces {
    const cipher = this.#startEncryption(ad, pieces);
    const ciphertext: Buffer[] = [];
    for (const piece of pieces) {
      if (piece.length > 0) ciphertext.push(cipher.update(piece));
    }
    return { ciphertext, tag: this.#finishEncryption(cipher) };
  }

  /**
   * EncryptWithAd(ad, plaintext) of a plaintext given as consecutive pieces, written as
   * ciphertext then tag into `output` from `offset`, for a caller that assembles a frame.
   * @returns the offset just past the tag.
   * @throws {InternalError} INTERNAL when there is no key, the nonce is exhausted
   *   [N-NONCE-MAX], the message would exceed a Noise message [N-MSG-MAX], or `output`
   *   has no room for it.
   */
  encryptWithAdInto(
    ad: Uint8Array,
    pieces: readonly Uint8Array[],
    output: Uint8Array,
    offset: number,
  ): number {
    const plaintextBytes = totalBytes(pieces);
    if (offset < 0 || output.length - offset < plaintextBytes + TAG_BYTES) {
      throw new InternalError(
        ErrorCode.INTERNAL,
        `no room for a ${plaintextBytes + TAG_BYTES}-byte message at offset ${offset} of ${output.length} bytes`,
      );
    }
    const cipher = this.#startEncryption(ad, pieces);
    let end = offset;
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      const ciphertext = cipher.update(piece);
      output.set(ciphertext, end);
      end += ciphertext.length;
    }
    output.set(this.#finishEncryption(cipher), end);
    return end + TAG_BYTES;
  }

  /**
   * DecryptWithAd(ad, ciphertext): with a key, DECRYPT(k, n++, ad, ciphertext), the
   * plaintext, returned only once the tag verified; without a key, a copy of
   * `ciphertext`. On an authentication failure `n` is left as it was (§5.1).
   * @param ciphertext the ciphertext followed by its tag, as received; not retained.
   * @throws {CryptoError} DECRYPT_FAILED when authentication fails, or the ciphertext is
   *   shorter than a tag or longer than a Noise message [N-MSG-MAX].
   * @throws {InternalError} INTERNAL when the nonce is exhausted [N-NONCE-MAX].
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Buffer {
    if (this.#key === undefined) return Buffer.from(ciphertext);
    if (ciphertext.length < TAG_BYTES || ciphertext.length > MAX_MESSAGE_BYTES) {
      throw new CryptoError(
        ErrorCode.DECRYPT_FAILED,
        `a ${ciphertext.length}-byte ciphertext cannot be authentic (${TAG_BYTES} to ${MAX_MESSAGE_BYTES} bytes)`,
      );
    }
    const nonce = this.#currentNonce();
    const tagStart = ciphertext.length - TAG_BYTES;
    const decipher = createDecipheriv(CIPHER, this.#key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(ciphertext.subarray(tagStart));
    if (ad.length > 0) decipher.setAAD(ad);
    // update() hands back bytes before the tag is checked; they stay here until final()
    // has verified it.
    const plaintext = decipher.update(ciphertext.subarray(0, tagStart));
    try {
      decipher.final();
    } catch (error) {
      throw new CryptoError(ErrorCode.DECRYPT_FAILED, "a Noise message failed authentication", {
        cause: error,
      });
    }
    this.#n += 1n;
    return plaintext;
  }

  /**
   * [N-REKEY] Rekey(): sets `k = REKEY(k)`, the first 32 bytes of ENCRYPT(k, 2^64 − 1,
   * zerolen, 32 zero bytes) (§4.2, §11.3). `n` is unchanged.
   * @throws {InternalError} INTERNAL when there is no key.
   */
  rekey(): void {
    const key = this.#requireKey();
    const nonce = Buffer.alloc(NONCE_BYTES);
    nonce.writeBigUInt64BE(RESERVED_NONCE, NONCE_COUNTER_OFFSET);
    const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
    const newKey = cipher.update(REKEY_PLAINTEXT);
    cipher.final();
    this.#key = createSecretKey(newKey);
  }

  #startEncryption(ad: Uint8Array, pieces: readonly Uint8Array[]): CipherGCM {
    const key = this.#requireKey();
    const plaintextBytes = totalBytes(pieces);
    // [N-MSG-MAX] checked before the nonce is used, so a refused message costs nothing.
    if (plaintextBytes > MAX_TRANSPORT_PLAINTEXT_BYTES) {
      throw new InternalError(
        ErrorCode.INTERNAL,
        `a ${plaintextBytes}-byte plaintext exceeds a Noise message (${MAX_TRANSPORT_PLAINTEXT_BYTES} bytes at most)`,
      );
    }
    const cipher = createCipheriv(CIPHER, key, this.#currentNonce(), {
      authTagLength: TAG_BYTES,
    });
    if (ad.length > 0) cipher.setAAD(ad);
    return cipher;
  }

  #finishEncryption(cipher: CipherGCM): Buffer {
    // GCM is a stream mode: final() returns no bytes, it only computes the tag.
    cipher.final();
    this.#n += 1n;
    return cipher.getAuthTag();
  }

  /**
   * [N-NONCE] The AESGCM nonce of `n`: 32 zero bits, then `n` as 64-bit big-endian (§12.4).
   * [N-NONCE-MAX] `n` = 2^64 − 1 is reserved, so once `n` reaches it every message is
   * refused (§5.1): the session must end.
   */
  #currentNonce(): Buffer {
    if (this.#n >= RESERVED_NONCE) {
      throw new InternalError(
        ErrorCode.INTERNAL,
        "the Noise nonce is exhausted (2^64 - 1 messages): the session must end",
      );
    }
    this.#nonce.writeBigUInt64BE(this.#n, NONCE_COUNTER_OFFSET);
    return this.#nonce;
  }

  #requireKey(): KeyObject {
    if (this.#key === undefined) {
      throw new InternalError(ErrorCode.INTERNAL, "this CipherState has no key");
    }
    return this.#key;
  }
}

function totalBytes(pieces: readonly Uint8Array[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.length;
  return total;
}
