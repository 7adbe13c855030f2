import { SESSION_FINGERPRINT_BYTES, SESSION_FINGERPRINT_INFO } from "./constants.js";
import { fingerprintText } from "./fingerprint-text.js";

/**
 * [H-FINGERPRINT] The session fingerprint: the first 8 bytes of HKDF-SHA-256(ikm = the
 * handshake hash `h`, salt = empty, info = "gb-transfer/2 session fingerprint"), written
 * as four groups of four lower-case hex digits joined by `-` (`7f3a-91c2-0b4e-d8a1`).
 * Both sides compute the same one; two people comparing theirs learn that no one sat in
 * the middle of the handshake with the key.
 */
export function sessionFingerprint(handshakeHash: Uint8Array): string {
  return fingerprintText(handshakeHash, SESSION_FINGERPRINT_INFO, SESSION_FINGERPRINT_BYTES);
}
