/**
 * Every failure in gb-transfer is a {@link GbError} with a stable `code`.
 *
 * Codes are part of the public contract: they appear in error frames on the wire
 * (PROTOCOL.md, "Error codes"), in `--json` output, and users match on them. Messages are
 * for humans and may change; codes never do.
 *
 * Each code belongs to exactly one error class ({@link ERROR_CLASS_OF_CODE}); a class's
 * constructor accepts only its own codes, so the compiler keeps the binding.
 */

/** Stable error codes, grouped by the class that owns them. */
export const ErrorCode = {
  // ProtocolError: bytes on the wire broke the framing or protocol rules
  BAD_PREAMBLE: "BAD_PREAMBLE",
  UNSUPPORTED_VERSION: "UNSUPPORTED_VERSION",
  FRAME_TOO_LARGE: "FRAME_TOO_LARGE",
  UNKNOWN_FRAME_TYPE: "UNKNOWN_FRAME_TYPE",
  MALFORMED_MESSAGE: "MALFORMED_MESSAGE",
  UNEXPECTED_FRAME: "UNEXPECTED_FRAME",
  TRUNCATED: "TRUNCATED",
  // NetworkError
  CONNECT_FAILED: "CONNECT_FAILED",
  CONNECTION_LOST: "CONNECTION_LOST",
  TIMEOUT: "TIMEOUT",
  // RefusedError: the server will not take this now, for reasons of its own
  BUSY: "BUSY",
  SHUTTING_DOWN: "SHUTTING_DOWN",
  ENCRYPTION_REQUIRED: "ENCRYPTION_REQUIRED",
  REJECTED: "REJECTED",
  // IntegrityError: bytes differ from what was declared or sent
  SIZE_MISMATCH: "SIZE_MISMATCH",
  INTEGRITY_MISMATCH: "INTEGRITY_MISMATCH",
  // CodecError
  DICT_INVALID: "DICT_INVALID",
  DICT_TOO_LARGE: "DICT_TOO_LARGE",
  DICT_TOO_DEEP: "DICT_TOO_DEEP",
  // CryptoError
  DECRYPT_FAILED: "DECRYPT_FAILED",
  KEY_MISSING: "KEY_MISSING",
  KEY_INVALID: "KEY_INVALID",
  KEY_MISMATCH: "KEY_MISMATCH",
  // InputError
  INPUT_UNREADABLE: "INPUT_UNREADABLE",
  // StorageError
  STORAGE_FAILED: "STORAGE_FAILED",
  // InternalError
  INTERNAL: "INTERNAL",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** True when `value` is one of the documented error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && knownCodes.has(value);
}

export interface GbErrorOptions {
  readonly cause?: unknown;
  /**
   * A short remedy that depends on the data (`chmod 600 'path'`). Library hints never
   * name a command-line flag: the CLI adds those, keyed by code (src/cli/hints.ts).
   */
  readonly hint?: string;
  /** The peer reported this error in an ERROR frame; it was not found here. */
  readonly remote?: boolean;
  /** The item (its wire id) that failed; undefined for a connection-wide failure. */
  readonly itemId?: number;
}

/** The base of every error gb-transfer throws. Use a subclass: each owns its codes. */
export abstract class GbError extends Error {
  readonly code: ErrorCode;
  /** A short remedy, when the library knows one that depends on the data. */
  readonly hint: string | undefined;
  /** True when the peer reported the error (an ERROR frame), false when found locally. */
  readonly remote: boolean;
  /** The item's wire id, when the error concerns one item. */
  readonly itemId: number | undefined;

  constructor(code: ErrorCode, message: string, options: GbErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.remote = options.remote ?? false;
    this.itemId = options.itemId;
  }
}

/**
 * The base of a class that owns the codes `C`: its constructor takes only those, and its
 * `code` is typed as one of them.
 */
function errorClassOwning<C extends ErrorCode>() {
  abstract class Owning extends GbError {
    declare readonly code: C;
    // Not useless: it narrows the codes the constructor accepts to the class's own.
    // eslint-disable-next-line @typescript-eslint/no-useless-constructor
    constructor(code: C, message: string, options?: GbErrorOptions) {
      super(code, message, options);
    }
  }
  return Owning;
}

export type ProtocolErrorCode =
  | typeof ErrorCode.BAD_PREAMBLE
  | typeof ErrorCode.UNSUPPORTED_VERSION
  | typeof ErrorCode.FRAME_TOO_LARGE
  | typeof ErrorCode.UNKNOWN_FRAME_TYPE
  | typeof ErrorCode.MALFORMED_MESSAGE
  | typeof ErrorCode.UNEXPECTED_FRAME
  | typeof ErrorCode.TRUNCATED;
/** Bytes on the wire broke the framing or protocol rules. */
export class ProtocolError extends errorClassOwning<ProtocolErrorCode>() {}

export type NetworkErrorCode =
  typeof ErrorCode.CONNECT_FAILED | typeof ErrorCode.CONNECTION_LOST | typeof ErrorCode.TIMEOUT;
/** Cannot connect, the connection was lost, or the peer went silent. */
export class NetworkError extends errorClassOwning<NetworkErrorCode>() {}

export type RefusedErrorCode =
  | typeof ErrorCode.BUSY
  | typeof ErrorCode.SHUTTING_DOWN
  | typeof ErrorCode.ENCRYPTION_REQUIRED
  | typeof ErrorCode.REJECTED;
/**
 * The server will not take an item or a connection, for reasons of its own (load,
 * shutdown, policy). REJECTED stands for a code this version does not know, sent by a
 * newer server; {@link RefusedError.wireCode} keeps it.
 */
export class RefusedError extends errorClassOwning<RefusedErrorCode>() {
  /** The code exactly as the peer sent it (differs from `code` only for REJECTED). */
  readonly wireCode: string;
  constructor(
    code: RefusedErrorCode,
    message: string,
    options: GbErrorOptions & { readonly wireCode?: string } = {},
  ) {
    super(code, message, options);
    this.wireCode = options.wireCode ?? code;
  }
}

export type IntegrityErrorCode =
  typeof ErrorCode.SIZE_MISMATCH | typeof ErrorCode.INTEGRITY_MISMATCH;
/** Bytes differ from what was declared (SIZE_MISMATCH) or sent (a receipt that does not match). */
export class IntegrityError extends errorClassOwning<IntegrityErrorCode>() {}

export type CodecErrorCode =
  typeof ErrorCode.DICT_INVALID | typeof ErrorCode.DICT_TOO_LARGE | typeof ErrorCode.DICT_TOO_DEEP;
/** A dictionary could not be encoded or decoded. */
export class CodecError extends errorClassOwning<CodecErrorCode>() {}

export type CryptoErrorCode =
  | typeof ErrorCode.DECRYPT_FAILED
  | typeof ErrorCode.KEY_MISSING
  | typeof ErrorCode.KEY_INVALID
  | typeof ErrorCode.KEY_MISMATCH;
/**
 * A key could not be loaded, the two sides hold different keys (the handshake failed),
 * or a record failed authentication.
 */
export class CryptoError extends errorClassOwning<CryptoErrorCode>() {}

export type InputErrorCode = typeof ErrorCode.INPUT_UNREADABLE;
/** A local input (a dictionary file, a file to send) could not be read. */
export class InputError extends errorClassOwning<InputErrorCode>() {}

export type StorageErrorCode = typeof ErrorCode.STORAGE_FAILED;
/** A received item could not be stored. */
export class StorageError extends errorClassOwning<StorageErrorCode>() {}

export type InternalErrorCode = typeof ErrorCode.INTERNAL;
/** Something that should not happen: a bug, or an unexpected exception kept as `cause`. */
export class InternalError extends errorClassOwning<InternalErrorCode>() {}

type ErrorClassOf<C extends ErrorCode> = new (
  code: C,
  message: string,
  options?: GbErrorOptions,
) => GbError;

/**
 * The one class that owns each code. Checked by the compiler: every code has an entry,
 * and an entry's constructor must accept that code.
 */
export const ERROR_CLASS_OF_CODE: { readonly [C in ErrorCode]: ErrorClassOf<C> } = {
  BAD_PREAMBLE: ProtocolError,
  UNSUPPORTED_VERSION: ProtocolError,
  FRAME_TOO_LARGE: ProtocolError,
  UNKNOWN_FRAME_TYPE: ProtocolError,
  MALFORMED_MESSAGE: ProtocolError,
  UNEXPECTED_FRAME: ProtocolError,
  TRUNCATED: ProtocolError,
  CONNECT_FAILED: NetworkError,
  CONNECTION_LOST: NetworkError,
  TIMEOUT: NetworkError,
  BUSY: RefusedError,
  SHUTTING_DOWN: RefusedError,
  ENCRYPTION_REQUIRED: RefusedError,
  REJECTED: RefusedError,
  SIZE_MISMATCH: IntegrityError,
  INTEGRITY_MISMATCH: IntegrityError,
  DICT_INVALID: CodecError,
  DICT_TOO_LARGE: CodecError,
  DICT_TOO_DEEP: CodecError,
  DECRYPT_FAILED: CryptoError,
  KEY_MISSING: CryptoError,
  KEY_INVALID: CryptoError,
  KEY_MISMATCH: CryptoError,
  INPUT_UNREADABLE: InputError,
  STORAGE_FAILED: StorageError,
  INTERNAL: InternalError,
};

// C ties the code to its class's constructor, which indexing with a union would lose.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
function construct<C extends ErrorCode>(
  code: C,
  message: string,
  options: GbErrorOptions,
): GbError {
  const ErrorClass: ErrorClassOf<C> = ERROR_CLASS_OF_CODE[code];
  return new ErrorClass(code, message, options);
}

/**
 * The error a peer reported in an ERROR frame, as an instance of the class that owns
 * its code, marked `remote`. A code this version does not know becomes a
 * {@link RefusedError} REJECTED that keeps the peer's code in `wireCode`.
 */
export function errorFromPeer(
  wireCode: string,
  message: string,
  itemId: number | undefined,
): GbError {
  const options = { remote: true, ...(itemId === undefined ? {} : { itemId }) };
  if (!isErrorCode(wireCode)) {
    return new RefusedError(ErrorCode.REJECTED, message, { ...options, wireCode });
  }
  return construct(wireCode, message, options);
}

/** An error of the same code (and class) as `error`, saying `message`; `error` is its cause. */
export function restated(error: GbError, message: string): GbError {
  return construct(error.code, message, { cause: error });
}

/** Wraps anything thrown that is not already a GbError, keeping it as `cause`. */
export function toGbError(error: unknown, context: string): GbError {
  if (error instanceof GbError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new InternalError(ErrorCode.INTERNAL, `${context}: ${detail}`, { cause: error });
}
