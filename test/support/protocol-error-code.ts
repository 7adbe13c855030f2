import { expect } from "vitest";
import { ProtocolError } from "../../src/errors.js";

/**
 * Runs `action` and returns the code of the ProtocolError it throws, or undefined when it
 * does not throw. Anything thrown that is not a ProtocolError fails the test.
 */
export function protocolErrorCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return (error as ProtocolError).code;
  }
  return undefined;
}
