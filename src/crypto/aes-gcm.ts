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
  const [plaintext] = gcmDecryptParts(key, nonce, [sealed], sealed.length);
  return plaintext ?? Buffer.alloc(0);
}

/**
 * {@link gcmDecrypt} of a sealed message given as consecutive pieces (`parts`, `length`
 * bytes in all, at least 16), as a socket delivered it: nothing is joined or copied
 * first. Returns the plaintext as pieces, only after the tag verified.
 */
export function gcmDecryptParts(
  key: KeyObject | Uint8Array,
  nonce: Uint8Array,
  parts: readonly Uint8Array[],
  length: number,
): Buffer[] {
  const tagStart = length - TAG_BYTES;
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sliceParts(parts, tagStart, length));
  // update() hands back bytes before the tag is checked; they stay private to this
  // function until final() has verified the tag.
  const plaintext: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const end = Math.min(part.length, tagStart - offset);
    if (end > 0) plaintext.push(decipher.update(part.subarray(0, end)));
    offset += part.length;
    if (offset >= tagStart) break;
  }
  decipher.final();
  return plaintext;
}

/** Bytes `start..end` of the concatenation of `parts`: a view when they lie in one part. */
function sliceParts(parts: readonly Uint8Array[], start: number, end: number): Uint8Array {
  let out: Buffer | undefined;
  let offset = 0;
  let filled = 0;
  for (const part of parts) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end - offset, part.length);
    offset += part.length;
    if (from >= to) continue;
    if (out === undefined && to - from === end - start) return part.subarray(from, to);
    out ??= Buffer.alloc(end - start);
    out.set(part.subarray(from, to), filled);
    filled += to - from;
  }
  return out ?? new Uint8Array(0);
}
