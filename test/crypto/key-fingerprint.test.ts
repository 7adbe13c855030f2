import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyFingerprint } from "../../src/crypto/key-fingerprint.js";
import { CryptoError, ErrorCode } from "../../src/errors.js";
import { keyTextVectors } from "./key-text-vectors.js";

/** HKDF-SHA-256 with an empty salt, 8 bytes, written out from RFC 5869 with HMAC alone. */
function referenceFingerprint(key: Uint8Array): string {
  const prk = createHmac("sha256", Buffer.alloc(32)).update(key).digest();
  const okm = createHmac("sha256", prk)
    .update(
      Buffer.concat([Buffer.from("gb-transfer/2 key fingerprint", "ascii"), Buffer.from([1])]),
    )
    .digest()
    .subarray(0, 8)
    .toString("hex");
  return okm.match(/.{4}/g)!.join("-");
}

describe("[KEY-FINGERPRINT] keyFingerprint", () => {
  it.each(keyTextVectors.keys.map((v) => [v.what, v] as const))(
    "[KEY-FINGERPRINT] known answer: %s",
    (_what, vector) => {
      expect(keyFingerprint(Buffer.from(vector.key, "hex"))).toBe(vector.fingerprint);
    },
  );

  it("[KEY-FINGERPRINT] is the first 8 bytes of HKDF-SHA-256, in four groups of four hex digits", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const fingerprint = keyFingerprint(key);
        expect(fingerprint).toMatch(/^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/);
        expect(fingerprint).toBe(referenceFingerprint(key));
      }),
      { numRuns: 100 },
    );
  });

  it("refuses a key that is not 32 bytes (KEY_INVALID)", () => {
    for (const length of [0, 31, 33]) {
      let caught: unknown;
      try {
        keyFingerprint(new Uint8Array(length));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CryptoError);
      expect((caught as CryptoError).code).toBe(ErrorCode.KEY_INVALID);
    }
  });
});
