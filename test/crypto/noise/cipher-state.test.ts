import { createCipheriv, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CipherState } from "../../../src/crypto/noise/cipher-state.js";
import {
  MAX_MESSAGE_BYTES,
  MAX_TRANSPORT_PLAINTEXT_BYTES,
  RESERVED_NONCE,
} from "../../../src/crypto/noise/constants.js";
import { CryptoError, InternalError } from "../../../src/errors.js";
import { DECRYPT_FAILED, expectError, flipBit, INTERNAL } from "./noise-helpers.js";

const KEY = Buffer.alloc(32, 0x42);
const AD = Buffer.from("associated data");
const NO_AD = new Uint8Array(0);

function keyed(key: Uint8Array = KEY): CipherState {
  const state = new CipherState();
  state.initializeKey(key);
  return state;
}

/** AES-256-GCM straight from node:crypto: ciphertext || tag. */
function reference(key: Uint8Array, nonce: Buffer, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
  cipher.setAAD(ad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([ciphertext, cipher.getAuthTag()]);
}

/** The 96-bit nonce of §12.4: 32 zero bits, then n as 64-bit big-endian. */
function nonceOf(n: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(n, 4);
  return nonce;
}

describe("CipherState (§5.1) with AESGCM (§12.4)", () => {
  it("[N-NONCE] encrypts under the nonce 0^32 || n big-endian, n counting from 0", () => {
    const state = keyed();
    const plaintext = Buffer.from("hello");
    for (const n of [0n, 1n, 2n]) {
      expect(state.nonce).toBe(n);
      const expected = reference(KEY, nonceOf(n), AD, plaintext);
      expect(state.encryptWithAd(AD, plaintext).equals(expected)).toBe(true);
    }
    state.setNonce(0x0102030405060708n);
    const expected = reference(KEY, Buffer.from("000000000102030405060708", "hex"), AD, plaintext);
    expect(state.encryptWithAd(AD, plaintext).equals(expected)).toBe(true);
  });

  it("without a key passes data through unchanged and keeps n", () => {
    const state = new CipherState();
    const data = Buffer.from("clear");
    expect(state.hasKey()).toBe(false);
    const encrypted = state.encryptWithAd(AD, data);
    expect(encrypted.equals(data)).toBe(true);
    expect(encrypted).not.toBe(data);
    expect(state.decryptWithAd(AD, data).equals(data)).toBe(true);
    expect(state.nonce).toBe(0n);
    expectError(() => state.encryptPiecesWithAd(NO_AD, [data]), InternalError, INTERNAL);
  });

  it("decrypts what it encrypted, with the same ad", () => {
    const sender = keyed();
    const receiver = keyed();
    const plaintext = randomBytes(1000);
    const message = sender.encryptWithAd(AD, plaintext);
    expect(receiver.decryptWithAd(AD, message).equals(plaintext)).toBe(true);
    expect(receiver.nonce).toBe(1n);
  });

  it("fails with DECRYPT_FAILED on any altered bit, a different ad or key, and keeps n (§5.1)", () => {
    const sender = keyed();
    const message = sender.encryptWithAd(AD, Buffer.from("sixteen+ bytes of text"));
    const receiver = keyed();
    for (let bit = 0; bit < message.length * 8; bit += 1) {
      expectError(
        () => receiver.decryptWithAd(AD, flipBit(message, bit)),
        CryptoError,
        DECRYPT_FAILED,
      );
    }
    expectError(() => receiver.decryptWithAd(NO_AD, message), CryptoError, DECRYPT_FAILED);
    expectError(
      () => keyed(Buffer.alloc(32, 1)).decryptWithAd(AD, message),
      CryptoError,
      DECRYPT_FAILED,
    );
    expect(receiver.nonce).toBe(0n);
    // n was not consumed by the failures: the genuine message still opens.
    expect(receiver.decryptWithAd(AD, message).toString()).toBe("sixteen+ bytes of text");
  });

  it("refuses a replayed or skipped message: each uses the next nonce", () => {
    const sender = keyed();
    const first = sender.encryptWithAd(NO_AD, Buffer.from("one"));
    const second = sender.encryptWithAd(NO_AD, Buffer.from("two"));
    const third = sender.encryptWithAd(NO_AD, Buffer.from("three"));
    const receiver = keyed();
    expect(receiver.decryptWithAd(NO_AD, first).toString()).toBe("one");
    expectError(() => receiver.decryptWithAd(NO_AD, first), CryptoError, DECRYPT_FAILED);
    expectError(() => receiver.decryptWithAd(NO_AD, third), CryptoError, DECRYPT_FAILED);
    expect(receiver.decryptWithAd(NO_AD, second).toString()).toBe("two");
  });

  it("[N-NONCE-MAX] encrypts at n = 2^64 - 2, then refuses: 2^64 - 1 is reserved", () => {
    const sender = keyed();
    const receiver = keyed();
    sender.setNonce(RESERVED_NONCE - 1n);
    receiver.setNonce(RESERVED_NONCE - 1n);
    const message = sender.encryptWithAd(NO_AD, Buffer.from("last"));
    expect(
      message.equals(reference(KEY, nonceOf(RESERVED_NONCE - 1n), NO_AD, Buffer.from("last"))),
    ).toBe(true);
    expect(receiver.decryptWithAd(NO_AD, message).toString()).toBe("last");
    expect(sender.nonce).toBe(RESERVED_NONCE);
    expectError(() => sender.encryptWithAd(NO_AD, Buffer.from("x")), InternalError, INTERNAL);
    expectError(
      () => sender.encryptPiecesWithAd(NO_AD, [Buffer.from("x")]),
      InternalError,
      INTERNAL,
    );
    const output = Buffer.alloc(64);
    expectError(
      () => sender.encryptWithAdInto(NO_AD, [Buffer.from("x")], output, 0),
      InternalError,
      INTERNAL,
    );
    expectError(() => receiver.decryptWithAd(NO_AD, message), InternalError, INTERNAL);
    expect(sender.nonce).toBe(RESERVED_NONCE);
  });

  it("refuses a nonce that is not a 64-bit unsigned integer", () => {
    const state = keyed();
    expectError(
      () => {
        state.setNonce(-1n);
      },
      InternalError,
      INTERNAL,
    );
    expectError(
      () => {
        state.setNonce(RESERVED_NONCE + 1n);
      },
      InternalError,
      INTERNAL,
    );
    expect(state.nonce).toBe(0n);
  });

  it("[N-MSG-MAX] encrypts up to 65519 bytes (a 65535-byte message), refuses more without using a nonce", () => {
    const state = keyed();
    const largest = Buffer.alloc(MAX_TRANSPORT_PLAINTEXT_BYTES, 3);
    expect(state.encryptWithAd(NO_AD, largest)).toHaveLength(MAX_MESSAGE_BYTES);
    const tooLarge = Buffer.alloc(MAX_TRANSPORT_PLAINTEXT_BYTES + 1);
    expectError(() => state.encryptWithAd(NO_AD, tooLarge), InternalError, INTERNAL);
    expectError(
      () => state.encryptPiecesWithAd(NO_AD, [largest, Buffer.alloc(1)]),
      InternalError,
      INTERNAL,
    );
    expect(state.nonce).toBe(1n);
  });

  it("[N-MSG-MAX] refuses to decrypt more than 65535 bytes, or fewer than a tag, as DECRYPT_FAILED", () => {
    const state = keyed();
    expectError(
      () => state.decryptWithAd(NO_AD, Buffer.alloc(MAX_MESSAGE_BYTES + 1)),
      CryptoError,
      DECRYPT_FAILED,
    );
    expectError(() => state.decryptWithAd(NO_AD, Buffer.alloc(15)), CryptoError, DECRYPT_FAILED);
    expect(state.nonce).toBe(0n);
    // An empty plaintext is a 16-byte message, and it is valid.
    const empty = keyed().encryptWithAd(NO_AD, new Uint8Array(0));
    expect(empty).toHaveLength(16);
    expect(state.decryptWithAd(NO_AD, empty)).toHaveLength(0);
  });

  it("encrypts the same bytes whole, in pieces, or into a caller's buffer", () => {
    const piecesArbitrary = fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 6 });
    fc.assert(
      fc.property(piecesArbitrary, fc.nat({ max: 40 }), (pieces, offset) => {
        const whole = Buffer.concat(pieces);
        const expected = keyed().encryptWithAd(AD, whole);
        const { ciphertext, tag } = keyed().encryptPiecesWithAd(AD, pieces);
        expect(Buffer.concat([...ciphertext, tag]).equals(expected)).toBe(true);
        const output = Buffer.alloc(offset + whole.length + 16 + 5, 0xee);
        const end = keyed().encryptWithAdInto(AD, pieces, output, offset);
        expect(end).toBe(offset + expected.length);
        expect(output.subarray(offset, end).equals(expected)).toBe(true);
        // Bytes outside the message are untouched.
        expect(output.subarray(0, offset).every((byte) => byte === 0xee)).toBe(true);
        expect(output.subarray(end).every((byte) => byte === 0xee)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("refuses to write into a buffer without room, before using a nonce", () => {
    const state = keyed();
    const plaintext = Buffer.alloc(100);
    expectError(
      () => state.encryptWithAdInto(NO_AD, [plaintext], Buffer.alloc(115), 0),
      InternalError,
      INTERNAL,
    );
    expectError(
      () => state.encryptWithAdInto(NO_AD, [plaintext], Buffer.alloc(200), 85),
      InternalError,
      INTERNAL,
    );
    expect(state.nonce).toBe(0n);
    expect(state.encryptWithAdInto(NO_AD, [plaintext], Buffer.alloc(116), 0)).toBe(116);
  });

  it("[N-REKEY] Rekey() takes the first 32 bytes of ENCRYPT(k, 2^64 - 1, zerolen, zeros), keeps n", () => {
    const sender = keyed();
    const receiver = keyed();
    sender.encryptWithAd(NO_AD, Buffer.from("before"));
    sender.rekey();
    expect(sender.nonce).toBe(1n);
    const newKey = reference(KEY, nonceOf(RESERVED_NONCE), NO_AD, Buffer.alloc(32)).subarray(0, 32);
    const message = sender.encryptWithAd(NO_AD, Buffer.from("after"));
    expect(message.equals(reference(newKey, nonceOf(1n), NO_AD, Buffer.from("after")))).toBe(true);

    receiver.setNonce(1n);
    expectError(() => receiver.decryptWithAd(NO_AD, message), CryptoError, DECRYPT_FAILED);
    receiver.rekey();
    expect(receiver.decryptWithAd(NO_AD, message).toString()).toBe("after");
    expectError(
      () => {
        new CipherState().rekey();
      },
      InternalError,
      INTERNAL,
    );
  });

  it("copies its key: changing the caller's buffer later changes nothing", () => {
    const key = Buffer.from(KEY);
    const state = keyed(key);
    key.fill(0);
    const message = state.encryptWithAd(NO_AD, Buffer.from("x"));
    expect(message.equals(reference(KEY, nonceOf(0n), NO_AD, Buffer.from("x")))).toBe(true);
  });

  it("refuses a key that is not 32 bytes", () => {
    expectError(
      () => {
        new CipherState().initializeKey(Buffer.alloc(16));
      },
      InternalError,
      INTERNAL,
    );
  });
});
