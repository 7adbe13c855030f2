import { describe, expect, it } from "vitest";
import type { CipherState } from "../../../src/crypto/noise/cipher-state.js";
import { keyPairFromPrivateKey } from "../../../src/crypto/noise/dh-25519.js";
import { handshakePattern } from "../../../src/crypto/noise/handshake-pattern.js";
import { HandshakeState } from "../../../src/crypto/noise/handshake-state.js";
import { patternNameOf } from "../../../src/crypto/noise/protocol-name.js";
import { cacophony, hex, snow, type NoiseVector, type NoiseVectorFile } from "./noise-vectors.js";

const NO_AD = new Uint8Array(0);

function party(vector: NoiseVector, initiator: boolean): HandshakeState {
  const side = initiator
    ? {
        prologue: vector.init_prologue,
        psks: vector.init_psks,
        s: vector.init_static,
        e: vector.init_ephemeral,
        rs: vector.init_remote_static,
      }
    : {
        prologue: vector.resp_prologue,
        psks: vector.resp_psks,
        s: vector.resp_static,
        e: vector.resp_ephemeral,
        rs: vector.resp_remote_static,
      };
  return new HandshakeState({
    pattern: patternNameOf(vector.protocol_name),
    initiator,
    prologue: hex(side.prologue),
    psks: (side.psks ?? []).map(hex),
    ...(side.s === undefined ? {} : { s: keyPairFromPrivateKey(hex(side.s)) }),
    ...(side.e === undefined ? {} : { e: keyPairFromPrivateKey(hex(side.e)) }),
    ...(side.rs === undefined ? {} : { rs: hex(side.rs) }),
  });
}

/**
 * Transport messages are encrypted through each of the CipherState's three ways in turn
 * (whole, pieces, into a buffer), so the published ciphertexts check all of them.
 */
function encryptTransport(cipher: CipherState, plaintext: Buffer, index: number): Buffer {
  const middle = plaintext.length >> 1;
  const pieces = [plaintext.subarray(0, middle), plaintext.subarray(middle)];
  switch (index % 3) {
    case 0:
      return cipher.encryptWithAd(NO_AD, plaintext);
    case 1: {
      const { ciphertext, tag } = cipher.encryptPiecesWithAd(NO_AD, pieces);
      return Buffer.concat([...ciphertext, tag]);
    }
    default: {
      const output = Buffer.alloc(plaintext.length + 16 + 3, 0xee);
      const end = cipher.encryptWithAdInto(NO_AD, pieces, output, 3);
      expect(end).toBe(output.length);
      return output.subarray(3);
    }
  }
}

/** Runs a vector: every message's exact bytes, the payloads read back, the handshake hash. */
function runVector(vector: NoiseVector): void {
  const initiator = party(vector, true);
  const responder = party(vector, false);
  const oneWay = handshakePattern(patternNameOf(vector.protocol_name)).oneWay;
  const messages = vector.messages.map((m) => ({
    payload: hex(m.payload),
    ciphertext: hex(m.ciphertext),
  }));
  let index = 0;
  for (; !initiator.finished; index += 1) {
    const message = messages[index]!;
    const [writer, reader] = index % 2 === 0 ? [initiator, responder] : [responder, initiator];
    const written = writer.writeMessage(message.payload);
    expect(written.toString("hex"), `handshake message ${index}`).toBe(
      message.ciphertext.toString("hex"),
    );
    expect(reader.readMessage(written).equals(message.payload)).toBe(true);
  }
  expect(responder.finished).toBe(true);
  const initiatorSide = initiator.split();
  const responderSide = responder.split();
  expect(initiatorSide.handshakeHash.equals(responderSide.handshakeHash)).toBe(true);
  if (vector.handshake_hash !== undefined) {
    expect(initiatorSide.handshakeHash.toString("hex")).toBe(vector.handshake_hash);
  }
  for (; index < messages.length; index += 1) {
    const message = messages[index]!;
    const [writer, reader] =
      oneWay || index % 2 === 0 ? [initiatorSide, responderSide] : [responderSide, initiatorSide];
    const written = encryptTransport(writer.send, message.payload, index);
    expect(written.toString("hex"), `transport message ${index}`).toBe(
      message.ciphertext.toString("hex"),
    );
    expect(reader.receive.decryptWithAd(NO_AD, written).equals(message.payload)).toBe(true);
  }
}

function describeFile(label: string, file: NoiseVectorFile, expectedCount: number): void {
  describe(`[N-SUITE] [N-PSK] [N-PSK-MOD] [N-SPLIT] published vectors: ${label}`, () => {
    it(`holds every ${label} vector of the suite (${expectedCount})`, () => {
      expect(file.vectors).toHaveLength(expectedCount);
      expect(file.count).toBe(expectedCount);
      for (const vector of file.vectors) {
        expect(vector.protocol_name).toMatch(/_25519_AESGCM_SHA256$/);
      }
    });
    it.each(file.vectors.map((vector) => [vector.protocol_name, vector] as const))(
      "%s",
      (_name, vector) => {
        runVector(vector);
      },
    );
  });
}

describeFile("cacophony", cacophony, 59);
describeFile("snow", snow, 51);

function flipFirstBit(text: string): string {
  const bytes = hex(text);
  bytes[0]! ^= 1;
  return bytes.toString("hex");
}

describe("the vector runner", () => {
  it("fails on a vector whose ciphertext was altered", () => {
    const vector = cacophony.vectors.find(
      (v) => v.protocol_name === "Noise_NNpsk0_25519_AESGCM_SHA256",
    )!;
    const last = vector.messages.length - 1;
    const altered: NoiseVector = {
      ...vector,
      messages: vector.messages.map((m, i) =>
        i === last ? { ...m, ciphertext: flipFirstBit(m.ciphertext) } : m,
      ),
    };
    expect(() => {
      runVector(altered);
    }).toThrow(/transport message/);
  });
});
