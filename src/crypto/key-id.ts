import { hkdfSync } from "node:crypto";
import { KEY_ID_BYTES, KEY_ID_INFO } from "./constants.js";
import { assertMasterKey } from "./master-key.js";

/** HKDF salt for the key id: none. The master key is already uniformly random. */
const EMPTY_SALT = new Uint8Array(0);

/**
 * The public fingerprint of a master key:
 * HKDF-SHA256(ikm = masterKey, salt = empty, info = "gb-transfer/v1 key id", 16 bytes).
 *
 * The client compares it with the server's before sending anything, so a key mismatch
 * is reported up front as such instead of as a decryption failure on the first item.
 * It reveals nothing useful about the key: HKDF is one-way and the id is only 128 bits.
 *
 * @throws {CryptoError} KEY_INVALID when `masterKey` is not 32 bytes.
 */
export function keyId(masterKey: Uint8Array): Buffer {
  assertMasterKey(masterKey);
  return Buffer.from(hkdfSync("sha256", masterKey, EMPTY_SALT, KEY_ID_INFO, KEY_ID_BYTES));
}
