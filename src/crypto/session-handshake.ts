import { CryptoError, ErrorCode, GbError, ProtocolError } from "../errors.js";
import { HANDSHAKE_MESSAGE_BYTES, SESSION_PATTERN } from "./constants.js";
import { assertMasterKey } from "./master-key.js";
import type { CipherState } from "./noise/cipher-state.js";
import type { KeyPair } from "./noise/dh-25519.js";
import { HandshakeState, type HandshakeResult } from "./noise/handshake-state.js";
import { sessionFingerprint } from "./session-fingerprint.js";

/** What a finished handshake gives one side: its two record ciphers and the session's names. */
export interface SessionKeys {
  /** Seals the records this side sends (c1 for the client, c2 for the server) [H-KEYS]. */
  readonly send: CipherState;
  /** Opens the records the peer sends. */
  readonly receive: CipherState;
  /** The Noise handshake hash `h`, the same on both sides. */
  readonly handshakeHash: Buffer;
  /** The session fingerprint [H-FINGERPRINT], e.g. `7f3a-91c2-0b4e-d8a1`. */
  readonly fingerprint: string;
}

/** What either side of the handshake needs. */
export interface SessionHandshakeOptions {
  /** The 32-byte master key: the PSK [H-PSK]. */
  readonly masterKey: Uint8Array;
  /** Everything said before the handshake, from {@link sessionPrologue} [H-PROLOGUE]. */
  readonly prologue: Uint8Array;
  /**
   * A fixed ephemeral key pair, for known-answer tests only; left out, a fresh one is
   * generated. An ephemeral key must never serve two handshakes.
   */
  readonly ephemeral?: KeyPair;
}

const EMPTY = new Uint8Array(0);

/**
 * [H-PROLOGUE] The prologue binds the versions and everything said in the clear before
 * the handshake: the client's preamble, the server's preamble, and the HELLO frame
 * exactly as sent (header and payload). An attacker who changes any of them (to drop
 * "noise" from `accepts`, say) makes the handshake fail.
 */
export function sessionPrologue(
  clientPreamble: Uint8Array,
  serverPreamble: Uint8Array,
  helloFrame: Uint8Array,
): Buffer {
  return Buffer.concat([clientPreamble, serverPreamble, helloFrame]);
}

/**
 * The client's side of gb-transfer's handshake, `Noise_NNpsk0_25519_AESGCM_SHA256`
 * [H-PATTERN]: {@link message1} (`-> psk, e`, empty payload) goes to the server, then
 * {@link finish} reads its answer (`<- e, ee`).
 */
export class SessionInitiator {
  /** Handshake message 1: 32-byte ephemeral public key, then the tag of the empty payload. */
  readonly message1: Buffer;
  readonly #state: HandshakeState;

  /**
   * Writes message 1.
   * @throws {CryptoError} KEY_INVALID when the master key is not 32 bytes.
   */
  constructor(options: SessionHandshakeOptions) {
    assertMasterKey(options.masterKey);
    this.#state = new HandshakeState({
      pattern: SESSION_PATTERN,
      initiator: true,
      prologue: options.prologue,
      psks: [options.masterKey],
      ...(options.ephemeral === undefined ? {} : { e: options.ephemeral }),
    });
    // [H-MESSAGES] an empty payload: one in message 1 could be replayed to any server
    // holding the key, since nothing fresh from the server protects it yet.
    this.message1 = this.#state.writeMessage(EMPTY);
  }

  /**
   * Reads the server's message 2 and returns the session's keys.
   * @throws {ProtocolError} MALFORMED_MESSAGE when it is not a 48-byte message [H-MESSAGES].
   * @throws {CryptoError} KEY_MISMATCH when it does not authenticate: the server holds
   *   another key, or something said before it was altered [H-FAIL].
   */
  finish(message2: Uint8Array): SessionKeys {
    checkMessageLength(message2, "message 2");
    readOrMismatch(this.#state, message2, "the server");
    return sessionKeys(this.#state.split(), true);
  }
}

/**
 * The server's side of the handshake [H-PATTERN]: reads the client's message 1 and
 * answers with message 2 (`<- e, ee`, empty payload).
 * @throws {ProtocolError} MALFORMED_MESSAGE when message 1 is not 48 bytes [H-MESSAGES].
 * @throws {CryptoError} KEY_MISMATCH when message 1 does not authenticate [H-FAIL].
 */
export function respondToSession(
  message1: Uint8Array,
  options: SessionHandshakeOptions,
): { readonly message2: Buffer; readonly keys: SessionKeys } {
  assertMasterKey(options.masterKey);
  checkMessageLength(message1, "message 1");
  const state = new HandshakeState({
    pattern: SESSION_PATTERN,
    initiator: false,
    prologue: options.prologue,
    psks: [options.masterKey],
    ...(options.ephemeral === undefined ? {} : { e: options.ephemeral }),
  });
  readOrMismatch(state, message1, "the client");
  const message2 = state.writeMessage(EMPTY);
  return { message2, keys: sessionKeys(state.split(), false) };
}

/** [H-MESSAGES] Both messages of the pattern, with their empty payloads, are 48 bytes. */
function checkMessageLength(message: Uint8Array, what: string): void {
  if (message.length !== HANDSHAKE_MESSAGE_BYTES) {
    throw new ProtocolError(
      ErrorCode.MALFORMED_MESSAGE,
      `malformed message: handshake ${what} is ${message.length} bytes, not ${HANDSHAKE_MESSAGE_BYTES}`,
    );
  }
}

/**
 * [H-FAIL] ReadMessage: a message that does not authenticate means the peer derived
 * other keys: another master key (almost always), or an altered transcript. A payload
 * that authenticates but is not empty is the same failure: the pattern has none.
 */
function readOrMismatch(state: HandshakeState, message: Uint8Array, peer: string): void {
  let payload: Buffer;
  try {
    payload = state.readMessage(message);
  } catch (error) {
    if (error instanceof GbError && error.code === ErrorCode.INTERNAL) throw error;
    throw new CryptoError(
      ErrorCode.KEY_MISMATCH,
      `the handshake failed: ${peer} holds a different key (or the connection was tampered with)`,
      { cause: error },
    );
  }
  if (payload.length > 0) {
    throw new CryptoError(ErrorCode.KEY_MISMATCH, `${peer} sent a handshake payload`);
  }
}

function sessionKeys(result: HandshakeResult, initiator: boolean): SessionKeys {
  // [H-KEYS] Split(): c1 carries client → server, c2 server → client.
  return {
    send: initiator ? result.initiatorToResponder : result.responderToInitiator,
    receive: initiator ? result.responderToInitiator : result.initiatorToResponder,
    handshakeHash: result.handshakeHash,
    fingerprint: sessionFingerprint(result.handshakeHash),
  };
}
