import { ErrorCode, GbError, RemoteError } from "../errors.js";

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
  /** Interrupted by a second Ctrl-C. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const KEY_CODES: ReadonlySet<string> = new Set([
  ErrorCode.KEY_MISSING,
  ErrorCode.KEY_INVALID,
  ErrorCode.KEY_MISMATCH,
  ErrorCode.DECRYPT_FAILED,
]);

const NETWORK_CODES: ReadonlySet<string> = new Set([
  ErrorCode.CONNECT_FAILED,
  ErrorCode.CONNECTION_LOST,
  ErrorCode.TIMEOUT,
  ErrorCode.BAD_PREAMBLE,
  ErrorCode.UNSUPPORTED_VERSION,
]);

const INPUT_CODES: ReadonlySet<string> = new Set([
  ErrorCode.INPUT_UNREADABLE,
  ErrorCode.DICT_INVALID,
  ErrorCode.DICT_TOO_DEEP,
  ErrorCode.DICT_TOO_LARGE,
  ErrorCode.STORAGE_FAILED,
]);

/** The exit code for a failure. Errors the server reported map by their origin first. */
export function exitCodeFor(error: unknown): ExitCode {
  if (!(error instanceof GbError)) return ExitCode.INTERNAL;
  if (KEY_CODES.has(error.code)) return ExitCode.KEY;
  if (error instanceof RemoteError) return ExitCode.REJECTED;
  if (error.code === ErrorCode.INTEGRITY_MISMATCH) return ExitCode.INTEGRITY;
  if (NETWORK_CODES.has(error.code)) return ExitCode.NETWORK;
  if (INPUT_CODES.has(error.code)) return ExitCode.INPUT;
  if (error.code === ErrorCode.INTERNAL) return ExitCode.INTERNAL;
  return ExitCode.REJECTED;
}
