import { createHmac } from "node:crypto";

const HASH_ALGORITHM = "sha256";

/** HMAC-HASH(key, data) of §4.3 with SHA-256 (RFC 2104; BLOCKLEN 64 is Node's). */
function hmacHash(key: Uint8Array, ...data: Uint8Array[]): Buffer {
  const hmac = createHmac(HASH_ALGORITHM, key);
  for (const piece of data) hmac.update(piece);
  return hmac.digest();
}

const BYTE_1 = Uint8Array.of(0x01);
const BYTE_2 = Uint8Array.of(0x02);
const BYTE_3 = Uint8Array.of(0x03);

/**
 * HKDF(chaining_key, input_key_material, num_outputs) exactly as §4.3 of the Noise
 * specification defines it [N-HKDF]: RFC 5869 HKDF with `chainingKey` as salt and no
 * info, each output HASHLEN (32) bytes.
 *
 * @param chainingKey `ck`, HASHLEN bytes.
 * @param inputKeyMaterial zero bytes, 32 bytes (a PSK) or DHLEN bytes (a DH output or,
 *   in a PSK handshake, an ephemeral public key).
 */
export function hkdf(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
  numOutputs: 2,
): [Buffer, Buffer];
export function hkdf(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
  numOutputs: 3,
): [Buffer, Buffer, Buffer];
export function hkdf(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
  numOutputs: 2 | 3,
): [Buffer, Buffer] | [Buffer, Buffer, Buffer] {
  const tempKey = hmacHash(chainingKey, inputKeyMaterial);
  const output1 = hmacHash(tempKey, BYTE_1);
  const output2 = hmacHash(tempKey, output1, BYTE_2);
  if (numOutputs === 2) return [output1, output2];
  const output3 = hmacHash(tempKey, output2, BYTE_3);
  return [output1, output2, output3];
}
