import { ErrorCode, InputError, type GbErrorOptions } from "../../errors.js";

/**
 * Why a file named as an input cannot be used: it is not there (or a directory on its
 * path is not), it is there but cannot be examined or read, it is not a regular file
 * (nor, where one may be sent, a directory), or it is a directory tree over the limits
 * of PROTOCOL.md's [T-PATH] or [T-LIMIT].
 */
export type InputFileReason = "missing" | "unreadable" | "not-a-file" | "tree-too-large";

/** What a file named as an input was to be sent as. */
export type InputFileKind = "dict" | "file";

/**
 * A file named as an input (a dictionary's file, a file to send) that cannot be used.
 * Its fields tell the cases apart, so a caller can word its own advice for each without
 * reading the message.
 */
export class InputFileError extends InputError {
  /** The path as it was given. */
  readonly path: string;
  readonly reason: InputFileReason;
  readonly kind: InputFileKind;

  constructor(
    message: string,
    input: {
      readonly path: string;
      readonly reason: InputFileReason;
      readonly kind: InputFileKind;
    },
    options: GbErrorOptions = {},
  ) {
    super(ErrorCode.INPUT_UNREADABLE, message, options);
    this.path = input.path;
    this.reason = input.reason;
    this.kind = input.kind;
  }
}

/**
 * The {@link InputFileError} for `cause`, what the file system threw when `path` was
 * examined, opened or read.
 */
export function inputFileError(path: string, kind: InputFileKind, cause: unknown): InputFileError {
  const errno = cause instanceof Error && "code" in cause ? cause.code : undefined;
  const reason = errno === "ENOENT" || errno === "ENOTDIR" ? "missing" : "unreadable";
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new InputFileError(`cannot read ${path}: ${detail}`, { path, reason, kind }, { cause });
}
