import { ErrorCode, InternalError } from "../errors.js";

/**
 * Checks the length of a key or nonce handed in by other gb-transfer code. Such values
 * come from {@link deriveItemKeys}, never from outside, so a wrong length is a bug in
 * the caller and is reported as INTERNAL rather than as a key or decryption problem.
 * @throws {GbError} INTERNAL when `value` is not `expected` bytes long.
 */
export function assertByteLength(value: Uint8Array, expected: number, what: string): void {
  if (value.length !== expected) {
    throw new InternalError(
      ErrorCode.INTERNAL,
      `${what} must be ${expected} bytes, got ${value.length}`,
    );
  }
}
