import { gcmDecrypt, gcmEncrypt } from "./aes-gcm.js";
import { CryptoError, ErrorCode } from "../errors.js";
import { assertByteLength } from "./assert-byte-length.js";
import { AES_KEY_BYTES, NONCE_BYTES, TAG_BYTES } from "./constants.js";

/**
 * The nonce of every single-use seal: all zeros. A fixed nonce is safe only because each
 * key given to {@link sealOnce} is derived fresh for one item and seals exactly one
 * message (the metadata under metaKey, the receipt under receiptKey).
 */
const ZERO_NONCE: Readonly<Uint8Array> = new Uint8Array(NONCE_BYTES);

/**
 * Seals one short message under a single-use key: AES-256-GCM, all-zero 12-byte nonce,
 * no associated data. Returns ciphertext followed by the 16-byte tag.
 *
 * Never call it twice with the same key: two messages under one key and nonce leak
 * their XOR and let an attacker forge tags.
 *
 * @throws {GbError} INTERNAL when `key` is not 32 bytes (a bug in the caller).
 */
export function sealOnce(key: Uint8Array, plaintext: Uint8Array): Buffer {
  assertByteLength(key, AES_KEY_BYTES, "a single-use key");
  return Buffer.concat(gcmEncrypt(key, ZERO_NONCE, plaintext));
}

/**
 * Opens a message sealed by {@link sealOnce}. Returns the plaintext only if the tag
 * verifies.
 *
 * @throws {CryptoError} DECRYPT_FAILED when `sealed` is shorter than a tag, or was not
 *   sealed under `key`, or was altered.
 * @throws {GbError} INTERNAL when `key` is not 32 bytes (a bug in the caller).
 */
export function openOnce(key: Uint8Array, sealed: Uint8Array): Buffer {
  assertByteLength(key, AES_KEY_BYTES, "a single-use key");
  if (sealed.length < TAG_BYTES) {
    throw new CryptoError(
      ErrorCode.DECRYPT_FAILED,
      `sealed message is ${sealed.length} bytes, shorter than its ${TAG_BYTES}-byte tag`,
    );
  }
  try {
    return gcmDecrypt(key, ZERO_NONCE, sealed);
  } catch (error) {
    throw new CryptoError(
      ErrorCode.DECRYPT_FAILED,
      "sealed message failed authentication: wrong key or altered data",
      { cause: error },
    );
  }
}
