import { hkdfSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hkdf } from "../../../src/crypto/noise/hkdf.js";

const RUNS = 100;

/** RFC 5869 HKDF-SHA256 with the chaining key as salt and no info, as §4.3 says it is. */
function rfc5869(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array, outputs: number): Buffer {
  return Buffer.from(
    hkdfSync("sha256", inputKeyMaterial, chainingKey, new Uint8Array(0), 32 * outputs),
  );
}

const chainingKeys = fc.uint8Array({ minLength: 32, maxLength: 32 });
// §4.3: the input key material is zero-length, 32 bytes or DHLEN (also 32) bytes.
const inputKeyMaterial = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
);

describe("[N-HKDF] HKDF (§4.3)", () => {
  it("with two outputs is RFC 5869 HKDF's first 64 bytes", () => {
    fc.assert(
      fc.property(chainingKeys, inputKeyMaterial, (ck, ikm) => {
        const [output1, output2] = hkdf(ck, ikm, 2);
        expect(Buffer.concat([output1, output2]).equals(rfc5869(ck, ikm, 2))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("with three outputs is RFC 5869 HKDF's first 96 bytes", () => {
    fc.assert(
      fc.property(chainingKeys, inputKeyMaterial, (ck, ikm) => {
        const outputs = hkdf(ck, ikm, 3);
        expect(outputs).toHaveLength(3);
        expect(Buffer.concat(outputs).equals(rfc5869(ck, ikm, 3))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
