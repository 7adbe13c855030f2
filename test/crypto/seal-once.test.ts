import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TAG_BYTES } from "../../src/crypto/constants.js";
import { openOnce, sealOnce } from "../../src/crypto/seal-once.js";
import { ErrorCode, GbError } from "../../src/errors.js";
import { expectDecryptFailed, patternBytes } from "./chunk-helpers.js";

const key = Buffer.alloc(32, 0x5a);

describe("[E-SEAL] sealOnce / openOnce", () => {
  it.each([0, 1, 15, 16, 17, 1000, 100_000])("round trips %i bytes", (size) => {
    const plaintext = patternBytes(size, size);
    const sealed = sealOnce(key, plaintext);
    expect(sealed.length).toBe(size + TAG_BYTES);
    expect(openOnce(key, sealed)).toEqual(plaintext);
  });

  it("round trips any message (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (plaintext) => {
        expect(openOnce(key, sealOnce(key, plaintext))).toEqual(Buffer.from(plaintext));
      }),
    );
  });

  it("refuses any single flipped bit (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), (plaintext, bitSeed) => {
        const sealed = sealOnce(key, plaintext);
        const bit = bitSeed % (sealed.length * 8);
        sealed[bit >> 3]! ^= 1 << (bit & 7);
        expectDecryptFailed(() => openOnce(key, sealed));
      }),
    );
  });

  it("refuses input shorter than a tag", () => {
    for (const length of [0, 1, TAG_BYTES - 1]) {
      expectDecryptFailed(() => openOnce(key, Buffer.alloc(length)));
    }
  });

  it("refuses a message sealed under another key", () => {
    const sealed = sealOnce(Buffer.alloc(32, 0x5b), Buffer.from("receipt"));
    expectDecryptFailed(() => openOnce(key, sealed));
  });

  it("refuses a truncated or extended message", () => {
    const sealed = sealOnce(key, Buffer.from("metadata"));
    expectDecryptFailed(() => openOnce(key, sealed.subarray(1)));
    expectDecryptFailed(() => openOnce(key, sealed.subarray(0, -1)));
    expectDecryptFailed(() => openOnce(key, Buffer.concat([sealed, Buffer.from([0])])));
  });

  it("treats a wrong key length as a bug (INTERNAL)", () => {
    for (const action of [
      () => sealOnce(Buffer.alloc(16), Buffer.from("x")),
      () => openOnce(Buffer.alloc(33), Buffer.alloc(TAG_BYTES)),
    ]) {
      expect(action).toThrow(GbError);
      try {
        action();
      } catch (error) {
        if (!(error instanceof GbError)) throw error;
        expect(error.code).toBe(ErrorCode.INTERNAL);
      }
    }
  });
});
