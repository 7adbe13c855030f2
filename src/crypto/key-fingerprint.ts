import { fingerprintText } from "./fingerprint-text.js";
import { assertMasterKey } from "./master-key.js";

/** [KEY-FINGERPRINT] HKDF info of the fingerprint: its own, so it equals no other derived value. */
export const KEY_FINGERPRINT_INFO = "gb-transfer/2 key fingerprint";

/** [KEY-FINGERPRINT] Bytes of HKDF output shown: 64 bits, sixteen hex digits to read out. */
export const KEY_FINGERPRINT_BYTES = 8;

/**
 * [KEY-FINGERPRINT] The fingerprint of a master key, such as `7f3a-91c2-0b4e-d8a1`: the
 * first 8 bytes of HKDF-SHA-256(ikm = key, salt = empty, info = "gb-transfer/2 key
 * fingerprint") as four groups of four lower-case hex digits joined by `-`.
 *
 * Short enough for two people to compare over the phone, and it reveals nothing usable
 * about the key: HKDF is one-way, and 64 bits are far fewer than the key's 256.
 *
 * @throws {CryptoError} KEY_INVALID when `key` is not 32 bytes.
 */
export function keyFingerprint(key: Uint8Array): string {
  assertMasterKey(key);
  return fingerprintText(key, KEY_FINGERPRINT_INFO, KEY_FINGERPRINT_BYTES);
}
