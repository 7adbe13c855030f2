import { ErrorCode, GbError } from "../errors.js";
import { UnsupportedVersionError } from "../protocol/unsupported-version-error.js";
import { SOFTWARE_VERSION } from "../transfer/software-name.js";
import { isLoopbackAddress } from "./client-host.js";
import { dictInputHint, inputHint } from "./input-hints.js";

/** The programs; a hint may depend on which one failed. */
export const PROGRAMS = ["gb-client", "gb-server", "gb-key"] as const;
export type Program = (typeof PROGRAMS)[number];

/**
 * What the user can do about a failure, in terms of the programs' own flags and
 * commands. The library's errors never name a flag; their own `hint`, when they have one,
 * is a remedy that depends on the data (`chmod 600 'path'`) and is shown instead.
 */
export function hintFor(error: unknown, program: Program | undefined): string | undefined {
  if (!(error instanceof GbError)) return undefined;
  if (error.hint !== undefined || program === undefined) return error.hint;
  const code: ErrorCode = error.code;
  switch (code) {
    case ErrorCode.KEY_MISSING:
      if (program === "gb-key") {
        return "create one with gb-key generate, or bring one from another machine with gb-key import; or pass --key-file PATH";
      }
      return program === "gb-server"
        ? "pass --key-file PATH with a writable location"
        : "bring the server's key with gb-key import (gb-key export prints it on the server's machine), or pass --key-file PATH; on the server's own machine, starting gb-server once creates it";
    case ErrorCode.KEY_INVALID:
      return "restore the key file from a copy, or pass --key-file PATH";
    case ErrorCode.KEY_MISMATCH:
      // gb-key's KEY_MISMATCH: another key is in the key file it was to write.
      if (program === "gb-key") {
        return "pass --force to replace it; every machine that uses the old key will then need the new one";
      }
      return program === "gb-client"
        ? "use the same key file (or GB_PASSPHRASE) on both sides; gb-server prints which key file it uses"
        : "the client's key differs from this server's: give it the same key file (or GB_PASSPHRASE)";
    case ErrorCode.CONNECT_FAILED:
      return connectHint(error, program);
    case ErrorCode.UNSUPPORTED_VERSION:
      return versionHint(error, program);
    case ErrorCode.ENCRYPTION_REQUIRED:
      return program === "gb-client"
        ? "this server takes only encrypted connections from here: send with --encrypt (and the server's key)"
        : "start gb-server with --allow-insecure-plaintext to take plaintext from other machines";
    case ErrorCode.INPUT_UNREADABLE:
      return inputHint(error);
    case ErrorCode.DICT_INVALID:
      return dictInputHint(error);
    case ErrorCode.STORAGE_FAILED:
      // gb-key's STORAGE_FAILED: the key file cannot be written (gb-client's comes from
      // the server, whose disk is not the user's to fix).
      return program === "gb-key" ? "pass --key-file PATH with a writable location" : undefined;
    case ErrorCode.UNKNOWN_FRAME_TYPE:
    case ErrorCode.MALFORMED_MESSAGE:
      return olderServerHint(error, program);
    case ErrorCode.BAD_PREAMBLE:
    case ErrorCode.FRAME_TOO_LARGE:
    case ErrorCode.UNEXPECTED_FRAME:
    case ErrorCode.TRUNCATED:
    case ErrorCode.CONNECTION_LOST:
    case ErrorCode.TIMEOUT:
    case ErrorCode.BUSY:
    case ErrorCode.SHUTTING_DOWN:
    case ErrorCode.REJECTED:
    case ErrorCode.SIZE_MISMATCH:
    case ErrorCode.INTEGRITY_MISMATCH:
    case ErrorCode.DICT_TOO_LARGE:
    case ErrorCode.DICT_TOO_DEEP:
    case ErrorCode.DECRYPT_FAILED:
    case ErrorCode.INTERNAL:
      return undefined;
    default:
      return unreachable(code);
  }
}

/**
 * [P-PREAMBLE] Which side to upgrade. gb-client knows the server's version when it
 * found the mismatch itself; a refusal from the server means this client is the older.
 */
function versionHint(error: GbError, program: Program): string {
  if (program === "gb-client" && error instanceof UnsupportedVersionError) {
    return error.serverIsOlder
      ? `the server runs an older gb-transfer: upgrade gb-server to ${SOFTWARE_VERSION} (or install the same version on both machines)`
      : `the server runs a newer gb-transfer: upgrade gb-client (install the same version on both machines)`;
  }
  return program === "gb-client"
    ? "this gb-client is older than the server: upgrade it (install the same version on both machines)"
    : "use the same gb-transfer version on both sides";
}

/**
 * [T-BATCH] [RES-HAVE] A server that refuses what gb-client sent as malformed or unknown
 * may predate batches of small files (a MALFORMED_MESSAGE) or a tree's HAVE (an
 * UNKNOWN_FRAME_TYPE): the flags that leave them out.
 */
function olderServerHint(error: GbError, program: Program): string | undefined {
  // Only a refusal of the connection: an item's own failure says nothing of the server's age.
  if (program !== "gb-client" || !error.remote || error.itemId !== undefined) return undefined;
  return "a gb-server older than this client may not take batches of small files or resume questions: try --no-batch, or --no-resume, or upgrade gb-server";
}

/** Look-up failures that mean the name has no address (getaddrinfo's answers). */
const NAME_NOT_FOUND: ReadonlySet<string> = new Set([
  "ENOTFOUND",
  "ENODATA",
  "EAI_NONAME",
  "EAI_FAIL",
]);

/**
 * [H-POLICY] With --plaintext, the server's policy refused the client in the clear: the
 * other remedy is the operator's.
 */
export const PLAINTEXT_REFUSED_HINT =
  "a server takes plaintext from other machines only when started with --allow-insecure-plaintext (then anyone on the path can read and change it)";

/**
 * Refused: nothing listens there. Not found: the host name has no address. In use: the
 * server's port is taken. Out of file descriptors: the server cannot accept connections.
 */
function connectHint(error: GbError, program: Program): string | undefined {
  const cause: unknown = error.cause;
  const errno = cause instanceof Error && "code" in cause ? cause.code : undefined;
  if (program === "gb-client" && errno === "ECONNREFUSED") {
    // The address it tried: another machine's needs a server listening beyond loopback.
    const address = cause instanceof Error && "address" in cause ? cause.address : undefined;
    return typeof address === "string" && !isLoopbackAddress(address)
      ? "is gb-server running there, listening on an address this machine reaches? Start it with: gb-server --host 0.0.0.0 (or :: for IPv6 too)"
      : "is gb-server running? Start it with: npx gb-server";
  }
  if (program === "gb-client" && typeof errno === "string" && NAME_NOT_FOUND.has(errno)) {
    return "check the host name given to --host, or give its IP address";
  }
  if (program === "gb-client" && errno === "EAI_AGAIN") {
    return "the name could not be looked up now (is DNS reachable?): try again, or give --host an IP address";
  }
  if (program === "gb-server" && (errno === "EMFILE" || errno === "ENFILE")) {
    return "the server is out of file descriptors: raise the limit (ulimit -n) or lower --max-connections";
  }
  if (program === "gb-server" && errno === "EADDRINUSE") {
    const port = "port" in (cause as object) ? (cause as { port: unknown }).port : undefined;
    return `another program is using port ${typeof port === "number" ? port : "?"}; stop it or pass --port`;
  }
  return undefined;
}

function unreachable(code: never): never {
  throw new Error(`no hint case for error code ${String(code)}`);
}
