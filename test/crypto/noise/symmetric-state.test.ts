import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SymmetricState } from "../../../src/crypto/noise/symmetric-state.js";

describe("SymmetricState (§5.2)", () => {
  it("starts h from a protocol name of up to 32 bytes zero-padded, and hashes a longer one", () => {
    const exact = Buffer.from("Noise_NNpsk0_25519_AESGCM_SHA256", "ascii");
    expect(exact).toHaveLength(32);
    expect(new SymmetricState(exact).getHandshakeHash().equals(exact)).toBe(true);

    const short = Buffer.from("Noise_NN_25519_AESGCM_SHA256", "ascii");
    const padded = Buffer.alloc(32);
    padded.set(short);
    expect(new SymmetricState(short).getHandshakeHash().equals(padded)).toBe(true);

    const long = Buffer.from("Noise_XXpsk0+psk3_25519_AESGCM_SHA256", "ascii");
    const hashed = createHash("sha256").update(long).digest();
    expect(new SymmetricState(long).getHandshakeHash().equals(hashed)).toBe(true);
  });

  it("has no key until MixKey, and encrypts only then", () => {
    const state = new SymmetricState(Buffer.from("Noise_NN_25519_AESGCM_SHA256"));
    const plaintext = Buffer.from("payload");
    expect(state.hasKey()).toBe(false);
    expect(state.encryptAndHash(plaintext).equals(plaintext)).toBe(true);
    state.mixKey(Buffer.alloc(32, 7));
    expect(state.hasKey()).toBe(true);
    expect(state.encryptAndHash(plaintext)).toHaveLength(plaintext.length + 16);
  });

  it("MixHash sets h = SHA-256(h || data)", () => {
    const state = new SymmetricState(Buffer.from("Noise_NN_25519_AESGCM_SHA256"));
    const before = state.getHandshakeHash();
    state.mixHash(Buffer.from("data"));
    const expected = createHash("sha256").update(before).update("data").digest();
    expect(state.getHandshakeHash().equals(expected)).toBe(true);
  });
});
