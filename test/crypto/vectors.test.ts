import { describe, expect, it } from "vitest";
import { ChunkOpener } from "../../src/crypto/chunk-opener.js";
import { writeChunkNonce } from "../../src/crypto/chunk-nonce.js";
import { ChunkSealer } from "../../src/crypto/chunk-sealer.js";
import {
  CHUNK_PLAINTEXT_BYTES,
  NONCE_BYTES,
  SCRYPT_LOG2_N,
  SCRYPT_P,
  SCRYPT_R,
} from "../../src/crypto/constants.js";
import { deriveItemKeys } from "../../src/crypto/item-keys.js";
import { keyId } from "../../src/crypto/key-id.js";
import { openOnce, sealOnce } from "../../src/crypto/seal-once.js";
import { sha256 } from "../support/sha256.js";
import { hex, vectors } from "./vectors.js";

const masterKey = hex(vectors.masterKey);
const itemSalt = hex(vectors.itemSalt);
const keys = deriveItemKeys(masterKey, itemSalt);

describe("known-answer vectors (test/vectors/crypto-vectors.json)", () => {
  it("uses the documented inputs", () => {
    expect(masterKey).toEqual(Buffer.from(Array.from({ length: 32 }, (_, i) => i)));
    expect(itemSalt).toEqual(Buffer.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i)));
    expect(vectors.passphrase).toMatchObject({ log2N: SCRYPT_LOG2_N, r: SCRYPT_R, p: SCRYPT_P });
  });

  it("[E-KEYID] key id", () => {
    expect(keyId(masterKey).toString("hex")).toBe(vectors.keyId);
  });

  it("item keys", () => {
    expect({
      payloadKey: keys.payloadKey.toString("hex"),
      baseNonce: keys.baseNonce.toString("hex"),
      metaKey: keys.metaKey.toString("hex"),
      receiptKey: keys.receiptKey.toString("hex"),
    }).toEqual(vectors.itemKeys);
  });

  it("chunk nonces", () => {
    const nonce = Buffer.alloc(NONCE_BYTES);
    for (const vector of vectors.chunkNonces) {
      writeChunkNonce(nonce, keys.baseNonce, vector.index, vector.last);
      expect(nonce.toString("hex"), `chunk ${vector.index} last=${vector.last}`).toBe(vector.nonce);
    }
  });

  it("short payload: one final chunk", () => {
    const plaintext = Buffer.from(vectors.shortPayload.plaintextUtf8, "utf8");
    const sealer = new ChunkSealer(keys.payloadKey, keys.baseNonce);
    const [chunk] = vectors.shortPayload.chunks;
    const [ciphertext, tag] = sealer.seal(plaintext, chunk!.last);
    expect(Buffer.concat([ciphertext, tag]).toString("hex")).toBe(chunk!.sealedHex);

    const opener = new ChunkOpener(keys.payloadKey, keys.baseNonce);
    const sealed = hex(chunk!.sealedHex);
    expect(opener.openParts([sealed], sealed.length, chunk!.last)).toEqual(plaintext);
    expect(opener.finished).toBe(true);
  });

  it("long payload: a full non-final chunk and a one-byte final chunk", () => {
    const { plaintextBytes, plaintextModulus, chunks } = vectors.longPayload;
    const plaintext = Buffer.from(
      Array.from({ length: plaintextBytes }, (_, i) => i % plaintextModulus),
    );
    const sealer = new ChunkSealer(keys.payloadKey, keys.baseNonce);
    const opener = new ChunkOpener(keys.payloadKey, keys.baseNonce);
    let offset = 0;
    for (const vector of chunks) {
      expect(vector.plaintextBytes).toBeLessThanOrEqual(CHUNK_PLAINTEXT_BYTES);
      const part = plaintext.subarray(offset, offset + vector.plaintextBytes);
      offset += vector.plaintextBytes;
      const sealed = Buffer.concat(sealer.seal(part, vector.last));
      expect(sealed.length).toBe(vector.sealedBytes);
      expect(sha256(sealed)).toBe(vector.sealedSha256);
      expect(opener.openParts([sealed], sealed.length, vector.last)).toEqual(part);
    }
    expect(offset).toBe(plaintextBytes);
    expect(opener.finished).toBe(true);
  });

  it("sealOnce under metaKey", () => {
    const plaintext = Buffer.from(vectors.sealOnce.plaintextUtf8, "utf8");
    expect(sealOnce(keys.metaKey, plaintext).toString("hex")).toBe(vectors.sealOnce.sealedHex);
    expect(openOnce(keys.metaKey, hex(vectors.sealOnce.sealedHex))).toEqual(plaintext);
  });

  // The scrypt vector is checked in passphrase.test.ts, to keep scrypt calls (0.3 s each) few.
});
