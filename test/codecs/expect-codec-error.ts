import { expect } from "vitest";
import { CodecError, type ErrorCode } from "../../src/errors.js";

/** Runs `action`, asserts it throws a CodecError with `code`, and returns the error. */
export function expectCodecError(action: () => unknown, code: ErrorCode): CodecError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CodecError);
  if (!(thrown instanceof CodecError)) throw new Error("unreachable: asserted above");
  expect(thrown.code).toBe(code);
  return thrown;
}
