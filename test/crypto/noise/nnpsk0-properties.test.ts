import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_TRANSPORT_PLAINTEXT_BYTES } from "../../../src/crypto/noise/constants.js";
import type { HandshakeResult, HandshakeState } from "../../../src/crypto/noise/handshake-state.js";
import { CryptoError } from "../../../src/errors.js";
import { complete, DECRYPT_FAILED, expectError, flipBit, pair, PSK } from "./noise-helpers.js";

const NO_AD = new Uint8Array(0);
const RUNS = 150;

const payload = (maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ maxLength }),
    fc.constant(new Uint8Array(maxLength)),
  );

/** A transport message and its direction. */
const transportMessage = fc.record({
  fromInitiator: fc.boolean(),
  payload: payload(MAX_TRANSPORT_PLAINTEXT_BYTES),
});

const session = fc.record({
  first: payload(2000),
  second: payload(2000),
  transport: fc.array(transportMessage, { minLength: 1, maxLength: 8 }),
});

const nnpsk0 = (): [HandshakeState, HandshakeState] =>
  pair("NNpsk0", { psks: [PSK] }, { psks: [PSK] });

interface Sides {
  readonly initiator: HandshakeResult;
  readonly responder: HandshakeResult;
}

/** Who writes and who reads a transport message going one way. */
function sender(
  sides: Sides,
  fromInitiator: boolean,
): { writer: HandshakeResult; reader: HandshakeResult } {
  return fromInitiator
    ? { writer: sides.initiator, reader: sides.responder }
    : { writer: sides.responder, reader: sides.initiator };
}

describe("NNpsk0 then transport messages, for random sessions", () => {
  it("every payload arrives unchanged, in both directions", () => {
    fc.assert(
      fc.property(session, ({ first, second, transport }) => {
        const [initiator, responder] = nnpsk0();
        const completed = complete(initiator, responder, [first, second]);
        for (const message of transport) {
          const { writer, reader } = sender(completed, message.fromInitiator);
          const sealed = writer.send.encryptWithAd(NO_AD, message.payload);
          expect(sealed).toHaveLength(message.payload.length + 16);
          expect(reader.receive.decryptWithAd(NO_AD, sealed).equals(message.payload)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("a single flipped bit in any message, handshake or transport, fails with DECRYPT_FAILED", () => {
    fc.assert(
      fc.property(session, fc.nat(), fc.nat(), ({ first, second, transport }, target, bitSeed) => {
        const [initiator, responder] = nnpsk0();
        const targetIndex = target % (2 + transport.length);
        // The handshake messages: -> psk, e then <- e, ee.
        const message1 = initiator.writeMessage(first);
        if (targetIndex === 0) {
          const altered = flipBit(message1, bitSeed % (message1.length * 8));
          expectError(() => responder.readMessage(altered), CryptoError, DECRYPT_FAILED);
          return;
        }
        responder.readMessage(message1);
        const message2 = responder.writeMessage(second);
        if (targetIndex === 1) {
          const altered = flipBit(message2, bitSeed % (message2.length * 8));
          expectError(() => initiator.readMessage(altered), CryptoError, DECRYPT_FAILED);
          return;
        }
        initiator.readMessage(message2);
        const completed = { initiator: initiator.split(), responder: responder.split() };
        for (const [index, message] of transport.entries()) {
          const { writer, reader } = sender(completed, message.fromInitiator);
          const sealed = writer.send.encryptWithAd(NO_AD, message.payload);
          if (index === targetIndex - 2) {
            const altered = flipBit(sealed, bitSeed % (sealed.length * 8));
            expectError(
              () => reader.receive.decryptWithAd(NO_AD, altered),
              CryptoError,
              DECRYPT_FAILED,
            );
            return;
          }
          reader.receive.decryptWithAd(NO_AD, sealed);
        }
        expect.fail("the target message was never sent");
      }),
      { numRuns: RUNS },
    );
  });
});
