import { hkdfSync } from "node:crypto";
import { SESSION_FINGERPRINT_BYTES, SESSION_FINGERPRINT_INFO } from "./constants.js";

/** Hex digits per group of the written fingerprint. */
const GROUP_DIGITS = 4;
const NO_SALT = new Uint8Array(0);

/**
 * [H-FINGERPRINT] The session fingerprint: the first 8 bytes of HKDF-SHA-256(ikm = the
 * handshake hash `h`, salt = empty, info = "gb-transfer/2 session fingerprint"), written
 * as four groups of four lower-case hex digits joined by `-` (`7f3a-91c2-0b4e-d8a1`).
 * Both sides compute the same one; two people comparing theirs learn that no one sat in
 * the middle of the handshake with the key.
 */
export function sessionFingerprint(handshakeHash: Uint8Array): string {
  const digits = Buffer.from(
    hkdfSync("sha256", handshakeHash, NO_SALT, SESSION_FINGERPRINT_INFO, SESSION_FINGERPRINT_BYTES),
  ).toString("hex");
  const groups: string[] = [];
  for (let at = 0; at < digits.length; at += GROUP_DIGITS) {
    groups.push(digits.slice(at, at + GROUP_DIGITS));
  }
  return groups.join("-");
}
