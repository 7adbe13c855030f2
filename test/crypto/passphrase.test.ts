import { describe, expect, it } from "vitest";
import { deriveKeyFromPassphrase } from "../../src/crypto/passphrase.js";
import { CryptoError, ErrorCode } from "../../src/errors.js";
import { hex, vectors } from "./vectors.js";

// Each scrypt call costs about 0.3 s and 128 MiB, so this file makes only two.
describe("[E-SCRYPT] deriveKeyFromPassphrase", () => {
  const { passphraseUtf8, saltHex, keyHex } = vectors.passphrase;

  it("matches the known-answer vector and depends on the salt", async () => {
    const salt = hex(saltHex);
    const otherSalt = Buffer.from(salt);
    otherSalt[15]! ^= 1;
    const [key, otherKey] = await Promise.all([
      deriveKeyFromPassphrase(passphraseUtf8, salt),
      deriveKeyFromPassphrase(passphraseUtf8, otherSalt),
    ]);
    expect(key.toString("hex")).toBe(keyHex);
    expect(otherKey.length).toBe(32);
    expect(otherKey).not.toEqual(key);
  });

  it("rejects an empty passphrase (KEY_INVALID)", async () => {
    const error: unknown = await deriveKeyFromPassphrase("", Buffer.alloc(16)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CryptoError);
    expect(error).toMatchObject({ code: ErrorCode.KEY_INVALID });
  });

  it.each([0, 15, 17, 32])("rejects a %i-byte salt (KEY_INVALID)", async (length) => {
    await expect(deriveKeyFromPassphrase("secret", Buffer.alloc(length))).rejects.toMatchObject({
      code: ErrorCode.KEY_INVALID,
    });
  });
});
