import { hkdfSync } from "node:crypto";

/** Hex digits per group; four groups are easier to read out and compare than sixteen digits. */
const GROUP_DIGITS = 4;

/** HKDF salt: none. Both inputs (a key, a handshake hash) are already uniformly random. */
const EMPTY_SALT = new Uint8Array(0);

/**
 * The written form shared by [KEY-FINGERPRINT] and [H-FINGERPRINT]: the first `bytes`
 * bytes of HKDF-SHA-256(ikm, salt = empty, info) as lower-case hex digits in groups of
 * four joined by `-` (`7f3a-91c2-0b4e-d8a1` for 8 bytes).
 */
export function fingerprintText(ikm: Uint8Array, info: string, bytes: number): string {
  const digits = Buffer.from(hkdfSync("sha256", ikm, EMPTY_SALT, info, bytes)).toString("hex");
  const groups: string[] = [];
  for (let start = 0; start < digits.length; start += GROUP_DIGITS) {
    groups.push(digits.slice(start, start + GROUP_DIGITS));
  }
  return groups.join("-");
}
