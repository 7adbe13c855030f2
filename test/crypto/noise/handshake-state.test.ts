import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES } from "../../../src/crypto/noise/constants.js";
import { generateKeyPair, type KeyPair } from "../../../src/crypto/noise/dh-25519.js";
import {
  BASE_PATTERN_NAMES,
  handshakePattern,
} from "../../../src/crypto/noise/handshake-pattern.js";
import { HandshakeState } from "../../../src/crypto/noise/handshake-state.js";
import { CryptoError, InternalError } from "../../../src/errors.js";
import {
  complete,
  DECRYPT_FAILED,
  expectError,
  flipBit,
  freshParties,
  INTERNAL,
  pair,
  PSK,
} from "./noise-helpers.js";

const NO_AD = new Uint8Array(0);
const text = (value: string): Buffer => Buffer.from(value);

/** Both sides of `patternName` with fresh keys: statics given wherever the pattern uses them. */
function freshPair(patternName: string): [HandshakeState, HandshakeState, KeyPair, KeyPair] {
  const pattern = handshakePattern(patternName);
  const { initiatorStatic, responderStatic } = freshParties();
  const psks = Array.from({ length: pattern.pskCount }, (_, i) => Buffer.alloc(32, i + 1));
  const [initiator, responder] = pair(
    patternName,
    {
      s: initiatorStatic,
      psks,
      ...(pattern.responderPreMessage.includes("s") ? { rs: responderStatic.publicKey } : {}),
    },
    {
      s: responderStatic,
      psks,
      ...(pattern.initiatorPreMessage.includes("s") ? { rs: initiatorStatic.publicKey } : {}),
    },
  );
  return [initiator, responder, initiatorStatic, responderStatic];
}

describe("HandshakeState (§5.3)", () => {
  it("[N-SPLIT] NNpsk0: both sides agree, c1 carries initiator to responder and c2 back", () => {
    const [initiator, responder] = pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] });
    expect(initiator.isOurTurn).toBe(true);
    expect(responder.isOurTurn).toBe(false);
    const {
      initiator: i,
      responder: r,
      messages,
    } = complete(initiator, responder, [text("hello"), text("welcome")]);
    // -> psk, e: the ephemeral key, then the payload sealed under the PSK-derived key.
    expect(messages[0]).toHaveLength(32 + 5 + 16);
    // <- e, ee: the responder's ephemeral key, then the sealed payload.
    expect(messages[1]).toHaveLength(32 + 7 + 16);
    expect(i.handshakeHash.equals(r.handshakeHash)).toBe(true);
    expect(initiator.getHandshakeHash().equals(i.handshakeHash)).toBe(true);
    expect(i.send).toBe(i.initiatorToResponder);
    expect(i.receive).toBe(i.responderToInitiator);
    expect(r.send).toBe(r.responderToInitiator);
    expect(r.receive).toBe(r.initiatorToResponder);
    const up = i.initiatorToResponder.encryptWithAd(NO_AD, text("up"));
    expect(r.initiatorToResponder.decryptWithAd(NO_AD, up).toString()).toBe("up");
    const down = r.responderToInitiator.encryptWithAd(NO_AD, text("down"));
    expect(i.responderToInitiator.decryptWithAd(NO_AD, down).toString()).toBe("down");
    // The two directions have different keys.
    expectError(() => i.responderToInitiator.decryptWithAd(NO_AD, up), CryptoError, DECRYPT_FAILED);
  });

  it("[N-PSK] NNpsk0 with a wrong PSK fails the first message with DECRYPT_FAILED", () => {
    const [initiator, responder] = pair("NNpsk0", { psks: [PSK] }, { psks: [Buffer.alloc(32, 1)] });
    const first = initiator.writeMessage(text("hello"));
    expectError(() => responder.readMessage(first), CryptoError, DECRYPT_FAILED);
  });

  it("[N-PSK] NNpsk2 with a wrong PSK fails the second message with DECRYPT_FAILED", () => {
    const [initiator, responder] = pair("NNpsk2", { psks: [PSK] }, { psks: [Buffer.alloc(32, 1)] });
    responder.readMessage(initiator.writeMessage());
    expectError(() => initiator.readMessage(responder.writeMessage()), CryptoError, DECRYPT_FAILED);
  });

  it("fails with DECRYPT_FAILED when the prologues differ (§6)", () => {
    const [initiator, responder] = pair(
      "NNpsk0",
      { psks: [PSK], prologue: text("gb-transfer 2") },
      { psks: [PSK], prologue: text("gb-transfer 3") },
    );
    expectError(() => responder.readMessage(initiator.writeMessage()), CryptoError, DECRYPT_FAILED);
  });

  it("NN: a message altered in its clear payload fails at the next encrypted message", () => {
    const [initiator, responder] = pair("NN");
    const first = initiator.writeMessage(text("clear"));
    // The payload of `-> e` is not encrypted, but it is in the transcript.
    expect(responder.readMessage(flipBit(first, 32 * 8)).toString()).not.toBe("clear");
    expectError(() => initiator.readMessage(responder.writeMessage()), CryptoError, DECRYPT_FAILED);
  });

  it("[N-HS-FAIL] after a failure every call throws the same error", () => {
    const [initiator, responder] = pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] });
    const first = initiator.writeMessage();
    const failure = expectError(
      () => responder.readMessage(flipBit(first, 0)),
      CryptoError,
      DECRYPT_FAILED,
    );
    expect(() => responder.readMessage(first)).toThrow(failure);
    expect(() => responder.writeMessage()).toThrow(failure);
    expect(() => responder.split()).toThrow(failure);
  });

  it("[N-DH-ZERO] fails with DECRYPT_FAILED on a low-order ephemeral key from the peer", () => {
    const [initiator, responder] = pair("NN");
    const first = initiator.writeMessage();
    const forged = Buffer.concat([Buffer.alloc(32), first.subarray(32)]);
    responder.readMessage(forged);
    expectError(() => responder.writeMessage(), CryptoError, DECRYPT_FAILED);

    const [initiator2, responder2] = pair("NN");
    responder2.readMessage(initiator2.writeMessage());
    const second = responder2.writeMessage();
    const forgedReply = Buffer.concat([Buffer.alloc(32), second.subarray(32)]);
    expectError(() => initiator2.readMessage(forgedReply), CryptoError, DECRYPT_FAILED);
  });

  it("[N-MSG-MAX] writes a handshake message of exactly 65535 bytes, refuses one byte more unchanged", () => {
    const [initiator, responder] = pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] });
    const largest = Buffer.alloc(MAX_MESSAGE_BYTES - 32 - 16, 7);
    expectError(
      () => initiator.writeMessage(Buffer.alloc(largest.length + 1)),
      InternalError,
      INTERNAL,
    );
    // The refusal changed nothing: the handshake goes on.
    const first = initiator.writeMessage(largest);
    expect(first).toHaveLength(MAX_MESSAGE_BYTES);
    expect(responder.readMessage(first).equals(largest)).toBe(true);
    initiator.readMessage(responder.writeMessage());
    expect(initiator.finished).toBe(true);
  });

  it("[N-MSG-MAX] refuses a handshake message over 65535 bytes or too short, as DECRYPT_FAILED", () => {
    const [initiator, responder] = pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] });
    const first = initiator.writeMessage();
    const fresh = new HandshakeState({ pattern: "NNpsk0", initiator: false, psks: [PSK] });
    expectError(
      () => fresh.readMessage(Buffer.alloc(MAX_MESSAGE_BYTES + 1)),
      CryptoError,
      DECRYPT_FAILED,
    );
    // -> psk, e needs 32 bytes of key and a 16-byte tag.
    expectError(() => responder.readMessage(first.subarray(0, 47)), CryptoError, DECRYPT_FAILED);
  });

  it("XX: each side learns the other's static key", () => {
    const [initiator, responder, initiatorStatic, responderStatic] = freshPair("XX");
    expect(initiator.remoteStaticKey).toBeUndefined();
    complete(initiator, responder, [text("a"), text("b"), text("c")]);
    expect(initiator.remoteStaticKey?.equals(responderStatic.publicKey)).toBe(true);
    expect(responder.remoteStaticKey?.equals(initiatorStatic.publicKey)).toBe(true);
  });

  it("IK: an initiator that expects another responder's key fails at the first message", () => {
    const { initiatorStatic, responderStatic } = freshParties();
    const [initiator, responder] = pair(
      "IK",
      { s: initiatorStatic, rs: generateKeyPair().publicKey },
      { s: responderStatic },
    );
    expectError(() => responder.readMessage(initiator.writeMessage()), CryptoError, DECRYPT_FAILED);
  });

  it.each([...BASE_PATTERN_NAMES, "NNpsk0", "NNpsk2", "XXpsk3", "IKpsk2", "XXpsk0+psk1+psk2+psk3"])(
    "[N-SUITE] %s completes with fresh keys, and the transport works",
    (patternName) => {
      const [initiator, responder] = freshPair(patternName);
      const payloads = initiator.pattern.messages.map((_, i) => text(`payload ${i}`));
      const { initiator: i, responder: r } = complete(initiator, responder, payloads);
      expect(i.handshakeHash.equals(r.handshakeHash)).toBe(true);
      const up = i.send.encryptWithAd(NO_AD, text("to responder"));
      expect(r.receive.decryptWithAd(NO_AD, up).toString()).toBe("to responder");
      if (!initiator.pattern.oneWay) {
        const down = r.send.encryptWithAd(NO_AD, text("to initiator"));
        expect(i.receive.decryptWithAd(NO_AD, down).toString()).toBe("to initiator");
      }
    },
  );

  it("copies the PSKs it is given: the caller's buffers are neither read late nor wiped", () => {
    const initiatorPsk = Buffer.from(PSK);
    const responderPsk = Buffer.from(PSK);
    const [initiator, responder] = pair(
      "NNpsk2",
      { psks: [initiatorPsk] },
      { psks: [responderPsk] },
    );
    initiatorPsk.fill(1);
    responderPsk.fill(2);
    complete(initiator, responder);
    expect(initiatorPsk.every((byte) => byte === 1)).toBe(true);
    expect(responderPsk.every((byte) => byte === 2)).toBe(true);
  });

  it("two handshakes with the same PSK derive different keys (fresh ephemerals)", () => {
    const first = complete(...pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] }));
    const second = complete(...pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] }));
    expect(first.initiator.handshakeHash.equals(second.initiator.handshakeHash)).toBe(false);
    const message = first.initiator.send.encryptWithAd(NO_AD, text("x"));
    expectError(
      () => second.responder.receive.decryptWithAd(NO_AD, message),
      CryptoError,
      DECRYPT_FAILED,
    );
  });
});

describe("HandshakeState misuse is INTERNAL", () => {
  it("writing out of turn, reading out of turn, going on after the end", () => {
    const [initiator, responder] = pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] });
    expectError(() => responder.writeMessage(), InternalError, INTERNAL);
    expectError(() => initiator.readMessage(Buffer.alloc(64)), InternalError, INTERNAL);
    complete(initiator, responder);
    expectError(() => initiator.writeMessage(), InternalError, INTERNAL);
    expectError(() => responder.readMessage(Buffer.alloc(64)), InternalError, INTERNAL);
  });

  it("splitting before the end, or twice; the hash before the end", () => {
    const [initiator, responder] = pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] });
    expectError(() => initiator.split(), InternalError, INTERNAL);
    expectError(() => initiator.getHandshakeHash(), InternalError, INTERNAL);
    responder.readMessage(initiator.writeMessage());
    initiator.readMessage(responder.writeMessage());
    initiator.split();
    expectError(() => initiator.split(), InternalError, INTERNAL);
    expect(initiator.getHandshakeHash()).toHaveLength(32);
  });

  it.each([
    ["an unknown pattern", { pattern: "NQ" }],
    ["too few PSKs", { pattern: "NNpsk0" }],
    ["too many PSKs", { pattern: "NN", psks: [PSK] }],
    ["a short PSK", { pattern: "NNpsk0", psks: [Buffer.alloc(31)] }],
    ["no static key where the pattern sends one", { pattern: "XX" }],
    ["no rs where a pre-message has it", { pattern: "NK" }],
    ["an rs no pre-message has", { pattern: "NN", rs: Buffer.alloc(32, 9) }],
    ["an re no pre-message has", { pattern: "NN", re: Buffer.alloc(32, 9) }],
    ["an rs of the wrong length", { pattern: "NK", rs: Buffer.alloc(31, 9) }],
  ])("initialising with %s", (_what, options) => {
    expectError(() => new HandshakeState({ initiator: true, ...options }), InternalError, INTERNAL);
  });
});
