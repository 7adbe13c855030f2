/**
 * Every failure in gb-transfer is a {@link GbError} with a stable `code`.
 *
 * Codes are part of the public contract: they appear in error frames on the wire
 * (PROTOCOL.md, "Error codes"), in `--json` output, and users match on them. Messages are
 * for humans and may change; codes never do.
 */

/** Stable error codes, grouped by the layer that raises them. */
export const ErrorCode = {
  // framing / protocol (connection-fatal)
  BAD_PREAMBLE: "BAD_PREAMBLE",
  UNSUPPORTED_VERSION: "UNSUPPORTED_VERSION",
  FRAME_TOO_LARGE: "FRAME_TOO_LARGE",
  UNKNOWN_FRAME_TYPE: "UNKNOWN_FRAME_TYPE",
  MALFORMED_MESSAGE: "MALFORMED_MESSAGE",
  UNEXPECTED_FRAME: "UNEXPECTED_FRAME",
  TRUNCATED: "TRUNCATED",
  TIMEOUT: "TIMEOUT",
  BUSY: "BUSY",
  SHUTTING_DOWN: "SHUTTING_DOWN",
  // item-level (the connection survives)
  SIZE_MISMATCH: "SIZE_MISMATCH",
  DICT_INVALID: "DICT_INVALID",
  DICT_TOO_LARGE: "DICT_TOO_LARGE",
  DICT_TOO_DEEP: "DICT_TOO_DEEP",
  DECRYPT_FAILED: "DECRYPT_FAILED",
  REPLAYED: "REPLAYED",
  ENCRYPTION_REQUIRED: "ENCRYPTION_REQUIRED",
  STORAGE_FAILED: "STORAGE_FAILED",
  // local (never on the wire)
  KEY_MISSING: "KEY_MISSING",
  KEY_INVALID: "KEY_INVALID",
  KEY_MISMATCH: "KEY_MISMATCH",
  INPUT_UNREADABLE: "INPUT_UNREADABLE",
  CONNECT_FAILED: "CONNECT_FAILED",
  CONNECTION_LOST: "CONNECTION_LOST",
  INTEGRITY_MISMATCH: "INTEGRITY_MISMATCH",
  REJECTED: "REJECTED",
  INTERNAL: "INTERNAL",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** True when `value` is one of the documented error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && knownCodes.has(value);
}

/** The base of every error gb-transfer throws. */
export class GbError extends Error {
  readonly code: ErrorCode;
  /** A short suggestion of what the user can do about it, when there is one. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options?.hint;
  }
}

/** Bytes on the wire broke the framing or protocol rules. Fatal for the connection. */
export class ProtocolError extends GbError {}

/** A dictionary could not be encoded or decoded. */
export class CodecError extends GbError {}

/** A key could not be loaded, or data failed authentication. */
export class CryptoError extends GbError {}

/** A local input (a dictionary file, a file to send) could not be read. */
export class InputError extends GbError {}

/** Network failures: cannot connect, connection lost, timeouts. */
export class NetworkError extends GbError {}

/** The server refused an item or the connection; `code` is the server's code. */
export class RemoteError extends GbError {
  /** The item the server refused, or undefined when it refused the connection. */
  readonly itemId: number | undefined;
  constructor(code: ErrorCode, message: string, itemId: number | undefined) {
    super(code, message);
    this.itemId = itemId;
  }
}

/** A receipt did not match what was sent. */
export class IntegrityError extends GbError {}

/** A received item could not be stored. */
export class StorageError extends GbError {}

/** Wraps anything thrown that is not already a GbError, keeping it as `cause`. */
export function toGbError(error: unknown, context: string): GbError {
  if (error instanceof GbError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new GbError(ErrorCode.INTERNAL, `${context}: ${detail}`, { cause: error });
}
