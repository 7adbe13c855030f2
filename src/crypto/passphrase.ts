import { scrypt } from "node:crypto";
import { CryptoError, ErrorCode, toGbError } from "../errors.js";
import {
  MASTER_KEY_BYTES,
  SCRYPT_LOG2_N,
  SCRYPT_MAXMEM_BYTES,
  SCRYPT_P,
  SCRYPT_R,
  SCRYPT_SALT_BYTES,
} from "./constants.js";

/**
 * Derives a master key from a passphrase:
 * scrypt(UTF-8 bytes of passphrase, salt, N = 2^17, r = 8, p = 1, 32 bytes) [E-SCRYPT].
 *
 * The passphrase is used exactly as given (no Unicode normalisation), so both sides
 * must type it the same way. The work runs on libuv's thread pool (about 0.3 s and
 * 128 MiB), so it does not block the event loop.
 *
 * @param salt 16 bytes; the server chooses it once and shares it with clients.
 * @throws {CryptoError} KEY_INVALID when the passphrase is empty or the salt is not
 *   16 bytes.
 * @throws {GbError} INTERNAL when scrypt itself fails (for example, out of memory).
 */
export async function deriveKeyFromPassphrase(
  passphrase: string,
  salt: Uint8Array,
): Promise<Buffer> {
  if (passphrase.length === 0) {
    throw new CryptoError(ErrorCode.KEY_INVALID, "the passphrase is empty", {
      hint: "choose a non-empty passphrase, or use a key file instead",
    });
  }
  if (salt.length !== SCRYPT_SALT_BYTES) {
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      `a passphrase salt must be ${SCRYPT_SALT_BYTES} bytes, got ${salt.length}`,
    );
  }
  const secret = Buffer.from(passphrase, "utf8");
  return await new Promise<Buffer>((resolve, reject) => {
    scrypt(
      secret,
      salt,
      MASTER_KEY_BYTES,
      { N: 2 ** SCRYPT_LOG2_N, r: SCRYPT_R, p: SCRYPT_P, maxmem: SCRYPT_MAXMEM_BYTES },
      (error, key) => {
        if (error) reject(toGbError(error, "scrypt failed"));
        else resolve(key);
      },
    );
  });
}
