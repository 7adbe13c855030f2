/**
 * The error model: every code is owned by exactly one class, a code reported by the peer
 * becomes that class marked `remote`, and every code has an exit code and a hint case
 * (both exhaustive switches the compiler checks; here, that they answer at run time).
 */
import { describe, expect, it } from "vitest";
import { ExitCode, exitCodeFor } from "../../src/cli/exit-codes.js";
import { hintFor } from "../../src/cli/hints.js";
import {
  CodecError,
  CryptoError,
  ERROR_CLASS_OF_CODE,
  ErrorCode,
  GbError,
  InputError,
  IntegrityError,
  InternalError,
  NetworkError,
  ProtocolError,
  RefusedError,
  StorageError,
  errorFromPeer,
  toGbError,
} from "../../src/errors.js";

const ALL_CODES = Object.values(ErrorCode);

describe("error classes", () => {
  it("every code has exactly one owning class", () => {
    expect(Object.keys(ERROR_CLASS_OF_CODE).sort()).toEqual([...ALL_CODES].sort());
    const classes = [
      ProtocolError,
      NetworkError,
      RefusedError,
      IntegrityError,
      CodecError,
      CryptoError,
      InputError,
      StorageError,
      InternalError,
    ];
    for (const code of ALL_CODES) {
      const error = errorFromPeer(code, "m", undefined);
      const owners = classes.filter((ErrorClass) => error instanceof ErrorClass);
      expect(owners, code).toEqual([ERROR_CLASS_OF_CODE[code]]);
    }
  });

  it("binds the codes the issue named to one class each", () => {
    expect(errorFromPeer("TIMEOUT", "m", undefined)).toBeInstanceOf(NetworkError);
    expect(errorFromPeer("BUSY", "m", 3)).toBeInstanceOf(RefusedError);
    expect(errorFromPeer("SIZE_MISMATCH", "m", 3)).toBeInstanceOf(IntegrityError);
  });

  it("a peer's code becomes its class, marked remote, with the item id", () => {
    const error = errorFromPeer("DICT_INVALID", "not valid JSON", 2);
    expect(error).toBeInstanceOf(CodecError);
    expect(error).toMatchObject({ code: "DICT_INVALID", remote: true, itemId: 2 });
    expect(error.message).toBe("not valid JSON");
    const connection = errorFromPeer("BUSY", "later", undefined);
    expect(connection.itemId).toBeUndefined();
  });

  it("an unknown code from a newer peer is REJECTED and keeps the peer's code", () => {
    const error = errorFromPeer("SOMETHING_NEW", "m", 1);
    expect(error).toBeInstanceOf(RefusedError);
    expect(error).toMatchObject({ code: "REJECTED", wireCode: "SOMETHING_NEW" });
  });

  it("errors found locally are not remote; the name is the class", () => {
    const error = new ProtocolError(ErrorCode.MALFORMED_MESSAGE, "bad");
    expect(error.remote).toBe(false);
    expect(error.name).toBe("ProtocolError");
    expect(error).toBeInstanceOf(GbError);
  });

  it("toGbError keeps GbErrors and wraps anything else as INTERNAL with its cause", () => {
    const own = new InputError(ErrorCode.INPUT_UNREADABLE, "x");
    expect(toGbError(own, "ctx")).toBe(own);
    const cause = new TypeError("boom");
    const wrapped = toGbError(cause, "while testing");
    expect(wrapped).toBeInstanceOf(InternalError);
    expect(wrapped.message).toBe("while testing: boom");
    expect(wrapped.cause).toBe(cause);
  });
});

describe("exit codes", () => {
  /** The same error as if it had been found here (not reported by the peer). */
  const local = (code: ErrorCode): GbError =>
    Object.defineProperty(errorFromPeer(code, "m", undefined), "remote", { value: false });

  it.each([
    ["KEY_MISSING", ExitCode.KEY, ExitCode.KEY],
    ["KEY_INVALID", ExitCode.KEY, ExitCode.KEY],
    ["KEY_MISMATCH", ExitCode.KEY, ExitCode.KEY],
    ["DECRYPT_FAILED", ExitCode.KEY, ExitCode.KEY],
    ["INTEGRITY_MISMATCH", ExitCode.INTEGRITY, ExitCode.INTEGRITY],
    ["CONNECT_FAILED", ExitCode.NETWORK, ExitCode.REJECTED],
    ["CONNECTION_LOST", ExitCode.NETWORK, ExitCode.REJECTED],
    ["TIMEOUT", ExitCode.NETWORK, ExitCode.REJECTED],
    ["BAD_PREAMBLE", ExitCode.NETWORK, ExitCode.REJECTED],
    ["UNSUPPORTED_VERSION", ExitCode.NETWORK, ExitCode.REJECTED],
    ["FRAME_TOO_LARGE", ExitCode.PROTOCOL, ExitCode.REJECTED],
    ["UNKNOWN_FRAME_TYPE", ExitCode.PROTOCOL, ExitCode.REJECTED],
    ["MALFORMED_MESSAGE", ExitCode.PROTOCOL, ExitCode.REJECTED],
    ["UNEXPECTED_FRAME", ExitCode.PROTOCOL, ExitCode.REJECTED],
    ["TRUNCATED", ExitCode.PROTOCOL, ExitCode.REJECTED],
    ["DICT_INVALID", ExitCode.INPUT, ExitCode.REJECTED],
    ["DICT_TOO_LARGE", ExitCode.INPUT, ExitCode.REJECTED],
    ["DICT_TOO_DEEP", ExitCode.INPUT, ExitCode.REJECTED],
    ["INPUT_UNREADABLE", ExitCode.INPUT, ExitCode.REJECTED],
    ["STORAGE_FAILED", ExitCode.INPUT, ExitCode.REJECTED],
    ["BUSY", ExitCode.REJECTED, ExitCode.REJECTED],
    ["SHUTTING_DOWN", ExitCode.REJECTED, ExitCode.REJECTED],
    ["ENCRYPTION_REQUIRED", ExitCode.REJECTED, ExitCode.REJECTED],
    ["REJECTED", ExitCode.REJECTED, ExitCode.REJECTED],
    ["SIZE_MISMATCH", ExitCode.REJECTED, ExitCode.REJECTED],
    ["INTERNAL", ExitCode.INTERNAL, ExitCode.INTERNAL],
  ] as const)("%s: %i found locally, %i reported by the server", (code, here, remote) => {
    expect(exitCodeFor(local(code))).toBe(here);
    expect(exitCodeFor(errorFromPeer(code, "m", 1))).toBe(remote);
  });

  it("covers every code, and anything that is not a GbError is internal", () => {
    for (const code of ALL_CODES) expect(() => exitCodeFor(local(code))).not.toThrow();
    expect(exitCodeFor(new Error("x"))).toBe(ExitCode.INTERNAL);
    expect(exitCodeFor("text")).toBe(ExitCode.INTERNAL);
  });
});

describe("hints", () => {
  it("answers for every code and program without throwing", () => {
    for (const code of ALL_CODES) {
      for (const program of ["gb-client", "gb-server"] as const) {
        expect(() => hintFor(errorFromPeer(code, "m", undefined), program)).not.toThrow();
      }
    }
  });

  it("prefers the library's data-specific hint, and names flags only in the CLI", () => {
    const own = new CryptoError(ErrorCode.KEY_INVALID, "too open", { hint: "chmod 600 key" });
    expect(hintFor(own, "gb-client")).toBe("chmod 600 key");
    const bare = new CryptoError(ErrorCode.KEY_MISSING, "no key file");
    expect(hintFor(bare, "gb-client")).toContain("--key-file");
    expect(hintFor(bare, undefined)).toBeUndefined();
  });

  it("[P-PREAMBLE] says which side is older when the versions differ", async () => {
    const { UnsupportedVersionError } =
      await import("../../src/protocol/unsupported-version-error.js");
    expect(hintFor(new UnsupportedVersionError(1), "gb-client")).toMatch(
      /server runs an older gb-transfer: upgrade gb-server/,
    );
    expect(hintFor(new UnsupportedVersionError(3), "gb-client")).toMatch(
      /server runs a newer gb-transfer: upgrade gb-client/,
    );
    expect(hintFor(errorFromPeer("UNSUPPORTED_VERSION", "m", undefined), "gb-client")).toMatch(
      /gb-client is older/,
    );
  });

  it("says how to start a server when the connection is refused, and which port is taken", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const notListening = new NetworkError(ErrorCode.CONNECT_FAILED, "x", { cause: refused });
    expect(hintFor(notListening, "gb-client")).toMatch(/is gb-server running/);
    const inUse = Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE", port: 6688 });
    const busyPort = new NetworkError(ErrorCode.CONNECT_FAILED, "x", { cause: inUse });
    expect(hintFor(busyPort, "gb-server")).toBe(
      "another program is using port 6688; stop it or pass --port",
    );
  });
});
