/** Shared helpers for the Noise tests. */
import { expect } from "vitest";
import { generateKeyPair, type KeyPair } from "../../../src/crypto/noise/dh-25519.js";
import {
  HandshakeState,
  type HandshakeOptions,
  type HandshakeResult,
} from "../../../src/crypto/noise/handshake-state.js";
import { ErrorCode, GbError } from "../../../src/errors.js";

/** Runs `action` and returns what it threw; fails the test when it returns. */
export function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  expect.fail("expected an error");
}

/** Asserts that `action` throws a GbError of class `type` with `code`. */
export function expectError(
  action: () => unknown,
  type: abstract new (...args: never[]) => GbError,
  code: ErrorCode,
): GbError {
  const error = thrown(action);
  expect(error).toBeInstanceOf(type);
  if (!(error instanceof GbError)) throw error;
  expect(error.code).toBe(code);
  return error;
}

export const DECRYPT_FAILED = ErrorCode.DECRYPT_FAILED;
export const INTERNAL = ErrorCode.INTERNAL;

/** A copy of `bytes` with bit `bit` (0 = the lowest bit of the first byte) flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

/** Static keys for both parties, fresh for each call. */
export interface Parties {
  readonly initiatorStatic: KeyPair;
  readonly responderStatic: KeyPair;
}

export function freshParties(): Parties {
  return { initiatorStatic: generateKeyPair(), responderStatic: generateKeyPair() };
}

type SideOptions = Omit<HandshakeOptions, "initiator" | "pattern">;

/** An initiator and a responder of `pattern`. */
export function pair(
  pattern: string,
  initiator: SideOptions = {},
  responder: SideOptions = {},
): [HandshakeState, HandshakeState] {
  return [
    new HandshakeState({ pattern, initiator: true, ...initiator }),
    new HandshakeState({ pattern, initiator: false, ...responder }),
  ];
}

/** A completed handshake: both results and the handshake messages as sent. */
export interface Completed {
  readonly initiator: HandshakeResult;
  readonly responder: HandshakeResult;
  readonly messages: Buffer[];
}

/**
 * Runs the handshake between `initiator` and `responder` to its end, the payload of
 * message i being `payloads[i]` (empty when missing); checks every payload arrives.
 */
export function complete(
  initiator: HandshakeState,
  responder: HandshakeState,
  payloads: readonly Uint8Array[] = [],
): Completed {
  const messages: Buffer[] = [];
  const maxMessages = initiator.pattern.messages.length;
  for (let index = 0; !initiator.finished; index += 1) {
    expect(index).toBeLessThan(maxMessages);
    const [writer, reader] = index % 2 === 0 ? [initiator, responder] : [responder, initiator];
    const payload = payloads[index] ?? new Uint8Array(0);
    const message = writer.writeMessage(payload);
    messages.push(message);
    expect(reader.readMessage(message).equals(payload)).toBe(true);
  }
  expect(responder.finished).toBe(true);
  return { initiator: initiator.split(), responder: responder.split(), messages };
}

/** The shared 32-byte key of the NNpsk0 tests. */
export const PSK = Buffer.alloc(32, 0x5a);
