import { hkdfSync } from "node:crypto";
import { assertMasterKey } from "./master-key.js";

/** [KEY-FINGERPRINT] HKDF info of the fingerprint: its own, so it equals no other derived value. */
export const KEY_FINGERPRINT_INFO = "gb-transfer/2 key fingerprint";

/** [KEY-FINGERPRINT] Bytes of HKDF output shown: 64 bits, sixteen hex digits to read out. */
export const KEY_FINGERPRINT_BYTES = 8;

/** Hex digits per group; four groups are easier to read out and compare than sixteen digits. */
const FINGERPRINT_GROUP_DIGITS = 4;

/** HKDF salt: none. The master key is already uniformly random. */
const EMPTY_SALT = new Uint8Array(0);

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
  const digits = Buffer.from(
    hkdfSync("sha256", key, EMPTY_SALT, KEY_FINGERPRINT_INFO, KEY_FINGERPRINT_BYTES),
  ).toString("hex");
  const groups: string[] = [];
  for (let start = 0; start < digits.length; start += FINGERPRINT_GROUP_DIGITS) {
    groups.push(digits.slice(start, start + FINGERPRINT_GROUP_DIGITS));
  }
  return groups.join("-");
}
