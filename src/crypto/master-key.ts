import { randomBytes } from "node:crypto";
import { CryptoError, ErrorCode } from "../errors.js";
import { MASTER_KEY_BYTES } from "./constants.js";

/**
 * Checks that `key` has the length of a master key. The length is the only property a
 * master key has that can be checked: any 32 bytes are a valid key.
 * @throws {CryptoError} KEY_INVALID when `key` is not {@link MASTER_KEY_BYTES} long.
 */
export function assertMasterKey(key: Uint8Array): void {
  if (key.length !== MASTER_KEY_BYTES) {
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      `a master key must be ${MASTER_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
}

/** Returns a fresh random master key from the operating system's CSPRNG. */
export function newMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}
