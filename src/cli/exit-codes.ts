import { ErrorCode, GbError } from "../errors.js";

/** Process exit codes of gb-client and gb-server; documented in the README. */
export const ExitCode = {
  OK: 0,
  /** An unexpected internal error (a bug). */
  INTERNAL: 1,
  /** Bad command-line usage. */
  USAGE: 2,
  /** Could not connect (or listen), or the connection failed. */
  NETWORK: 3,
  /** The server refused an item or the connection. */
  REJECTED: 4,
  /** A key could not be loaded, the keys differ, or decryption failed. */
  KEY: 5,
  /** A receipt did not match what was sent. */
  INTEGRITY: 6,
  /**
   * A local file is missing, unreadable or invalid: for gb-client an input (dictionary,
   * file to send); for gb-server the save directory.
   */
  INPUT: 7,
  /** The server answered something the protocol does not allow (a malformed or unexpected frame). */
  PROTOCOL: 8,
  /** gb-client interrupted by Ctrl-C; gb-server by a second one. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code for a failure. A code the peer reported (`remote`) is a refusal (4),
 * except for key problems, which are 5 wherever they were found.
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (!(error instanceof GbError)) return ExitCode.INTERNAL;
  const refusedOr = (local: ExitCode): ExitCode => (error.remote ? ExitCode.REJECTED : local);
  const code: ErrorCode = error.code;
  switch (code) {
    case ErrorCode.KEY_MISSING:
    case ErrorCode.KEY_INVALID:
    case ErrorCode.KEY_MISMATCH:
    case ErrorCode.DECRYPT_FAILED:
      return ExitCode.KEY;
    case ErrorCode.INTEGRITY_MISMATCH:
      return ExitCode.INTEGRITY;
    // BAD_PREAMBLE, UNSUPPORTED_VERSION: a peer that is not a gb-transfer server (or
    // speaks another version) is nothing to talk to, like an address where none listens.
    case ErrorCode.CONNECT_FAILED:
    case ErrorCode.CONNECTION_LOST:
    case ErrorCode.TIMEOUT:
    case ErrorCode.BAD_PREAMBLE:
    case ErrorCode.UNSUPPORTED_VERSION:
      return refusedOr(ExitCode.NETWORK);
    case ErrorCode.FRAME_TOO_LARGE:
    case ErrorCode.UNKNOWN_FRAME_TYPE:
    case ErrorCode.MALFORMED_MESSAGE:
    case ErrorCode.UNEXPECTED_FRAME:
    case ErrorCode.TRUNCATED:
      return refusedOr(ExitCode.PROTOCOL);
    case ErrorCode.DICT_INVALID:
    case ErrorCode.DICT_TOO_LARGE:
    case ErrorCode.DICT_TOO_DEEP:
    case ErrorCode.INPUT_UNREADABLE:
    case ErrorCode.STORAGE_FAILED:
      return refusedOr(ExitCode.INPUT);
    case ErrorCode.BUSY:
    case ErrorCode.SHUTTING_DOWN:
    case ErrorCode.ENCRYPTION_REQUIRED:
    case ErrorCode.REJECTED:
    case ErrorCode.SIZE_MISMATCH:
      return ExitCode.REJECTED;
    case ErrorCode.INTERNAL:
      return ExitCode.INTERNAL;
    default:
      return unreachable(code);
  }
}

function unreachable(code: never): never {
  throw new Error(`no exit code for error code ${String(code)}`);
}
