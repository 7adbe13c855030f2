import { createCipheriv, createDecipheriv, type KeyObject } from "node:crypto";
import { TAG_BYTES } from "./constants.js";

/**
 * AES-256-GCM of one message with no associated data. Returns the ciphertext and the
 * 16-byte tag separately so a caller can write both without concatenating them.
 */
export function gcmEncrypt(
  key: KeyObject | Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
): [ciphertext: Buffer, tag: Buffer] {
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  const ciphertext = cipher.update(plaintext);
  // GCM is a stream mode: final() returns no bytes, it only computes the tag.
  cipher.final();
  return [ciphertext, cipher.getAuthTag()];
}

/**
 * Opens `sealed` (ciphertext || 16-byte tag, at least 16 bytes). Returns the plaintext
 * only after the tag verified.
 * @throws the underlying crypto error when the tag does not verify; callers wrap it with
 *   what failed.
 */
export function gcmDecrypt(
  key: KeyObject | Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
): Buffer {
  const tagStart = sealed.length - TAG_BYTES;
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(tagStart));
  // update() hands back bytes before the tag is checked; they stay private to this
  // function until final() has verified the tag.
  const plaintext = decipher.update(sealed.subarray(0, tagStart));
  decipher.final();
  return plaintext;
}
