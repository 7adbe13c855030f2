import { describe, expect, it } from "vitest";
import { dh, generateKeyPair, keyPairFromPrivateKey } from "../../../src/crypto/noise/dh-25519.js";
import { CryptoError, InternalError } from "../../../src/errors.js";
import { DECRYPT_FAILED, expectError, INTERNAL } from "./noise-helpers.js";

const hex = (text: string): Buffer => Buffer.from(text, "hex");

/** RFC 7748, section 6.1: Alice's and Bob's X25519 keys and their shared secret. */
const RFC7748 = {
  alicePrivate: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
  alicePublic: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  bobPrivate: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
  bobPublic: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  shared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
};

describe("the 25519 DH functions (§12.1)", () => {
  it("derive RFC 7748's public keys and shared secret from its private keys", () => {
    const alice = keyPairFromPrivateKey(hex(RFC7748.alicePrivate));
    const bob = keyPairFromPrivateKey(hex(RFC7748.bobPrivate));
    expect(alice.publicKey.toString("hex")).toBe(RFC7748.alicePublic);
    expect(bob.publicKey.toString("hex")).toBe(RFC7748.bobPublic);
    expect(dh(alice, bob.publicKey).toString("hex")).toBe(RFC7748.shared);
    expect(dh(bob, alice.publicKey).toString("hex")).toBe(RFC7748.shared);
  });

  it("generate distinct 32-byte key pairs that agree on a secret", () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(a.publicKey).toHaveLength(32);
    expect(a.publicKey.equals(b.publicKey)).toBe(false);
    const secret = dh(a, b.publicKey);
    expect(secret).toHaveLength(32);
    expect(secret.equals(dh(b, a.publicKey))).toBe(true);
  });

  it("[N-DH-ZERO] refuses a low-order public key with DECRYPT_FAILED", () => {
    const ours = generateKeyPair();
    // 0 and 1 are points of small order: X25519 with them is all zeros.
    for (const point of [Buffer.alloc(32), Buffer.from([1, ...new Array<number>(31).fill(0)])]) {
      expectError(() => dh(ours, point), CryptoError, DECRYPT_FAILED);
    }
  });

  it("refuses keys of the wrong length as INTERNAL", () => {
    expectError(() => keyPairFromPrivateKey(Buffer.alloc(31, 1)), InternalError, INTERNAL);
    expectError(() => dh(generateKeyPair(), Buffer.alloc(33, 9)), InternalError, INTERNAL);
  });
});
