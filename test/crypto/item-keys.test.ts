import { describe, expect, it } from "vitest";
import {
  AES_KEY_BYTES,
  ITEM_SALT_BYTES,
  KEY_ID_BYTES,
  NONCE_BYTES,
} from "../../src/crypto/constants.js";
import { deriveItemKeys, newItemSalt } from "../../src/crypto/item-keys.js";
import { keyId } from "../../src/crypto/key-id.js";
import { assertMasterKey, newMasterKey } from "../../src/crypto/master-key.js";
import { CryptoError, ErrorCode } from "../../src/errors.js";

const masterKey = Buffer.alloc(32, 1);
const salt = Buffer.alloc(16, 2);

function expectKeyInvalid(action: () => unknown): void {
  expect(action).toThrow(CryptoError);
  try {
    action();
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    expect(error.code).toBe(ErrorCode.KEY_INVALID);
  }
}

describe("[E-KEYS] deriveItemKeys", () => {
  it("derives four keys of the right lengths, all different", () => {
    const keys = deriveItemKeys(masterKey, salt);
    expect(keys.payloadKey.length).toBe(AES_KEY_BYTES);
    expect(keys.baseNonce.length).toBe(NONCE_BYTES);
    expect(keys.metaKey.length).toBe(AES_KEY_BYTES);
    expect(keys.receiptKey.length).toBe(AES_KEY_BYTES);
    const all = [keys.payloadKey, keys.baseNonce, keys.metaKey, keys.receiptKey].map((b) =>
      b.toString("hex"),
    );
    expect(new Set(all).size).toBe(4);
  });

  it("is deterministic, and depends on both the master key and the salt", () => {
    const keys = deriveItemKeys(masterKey, salt);
    expect(deriveItemKeys(masterKey, salt)).toEqual(keys);
    expect(deriveItemKeys(masterKey, Buffer.alloc(16, 3)).payloadKey).not.toEqual(keys.payloadKey);
    expect(deriveItemKeys(Buffer.alloc(32, 9), salt).payloadKey).not.toEqual(keys.payloadKey);
  });

  it("refuses a master key or salt of the wrong length (KEY_INVALID)", () => {
    expectKeyInvalid(() => deriveItemKeys(Buffer.alloc(31), salt));
    expectKeyInvalid(() => deriveItemKeys(Buffer.alloc(33), salt));
    expectKeyInvalid(() => deriveItemKeys(masterKey, Buffer.alloc(15)));
    expectKeyInvalid(() => deriveItemKeys(masterKey, Buffer.alloc(0)));
  });
});

describe("newItemSalt / newMasterKey", () => {
  it("return fresh random bytes of the right length", () => {
    expect(newItemSalt().length).toBe(ITEM_SALT_BYTES);
    expect(newItemSalt()).not.toEqual(newItemSalt());
    const key = newMasterKey();
    expect(() => {
      assertMasterKey(key);
    }).not.toThrow();
    expect(newMasterKey()).not.toEqual(key);
  });
});

describe("keyId", () => {
  it("is 16 bytes, deterministic, and differs between keys", () => {
    const id = keyId(masterKey);
    expect(id.length).toBe(KEY_ID_BYTES);
    expect(keyId(Buffer.from(masterKey))).toEqual(id);
    expect(keyId(Buffer.alloc(32, 7))).not.toEqual(id);
  });

  it("is not a prefix of any item key (domain separation)", () => {
    const id = keyId(masterKey).toString("hex");
    const keys = deriveItemKeys(masterKey, Buffer.alloc(16));
    for (const value of Object.values(keys)) expect(value.toString("hex")).not.toContain(id);
  });

  it("refuses a master key of the wrong length (KEY_INVALID)", () => {
    expectKeyInvalid(() => keyId(Buffer.alloc(16)));
  });
});
