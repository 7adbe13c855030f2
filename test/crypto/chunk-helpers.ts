/** Shared helpers for the chunked-encryption tests. */
import { createCipheriv } from "node:crypto";
import { expect } from "vitest";
import { ChunkOpener } from "../../src/crypto/chunk-opener.js";
import { ChunkSealer } from "../../src/crypto/chunk-sealer.js";
import { CHUNK_PLAINTEXT_BYTES } from "../../src/crypto/constants.js";
import { deriveItemKeys, type ItemKeys } from "../../src/crypto/item-keys.js";
import { CryptoError, ErrorCode } from "../../src/errors.js";

/** One chunk as it travels: ciphertext || tag, and the sender's final flag. */
export interface SealedChunk {
  readonly sealed: Buffer;
  readonly last: boolean;
}

/** Fixed keys, so a failing test is reproducible. */
export const testKeys: ItemKeys = deriveItemKeys(Buffer.alloc(32, 0x42), Buffer.alloc(16, 0x17));

/** Deterministic, non-repeating-looking bytes; `seed` varies the content. */
export function patternBytes(length: number, seed = 0): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = (seed * 2_654_435_761 + 1) >>> 0;
  for (let i = 0; i < length; i += 1) {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * Splits `data` into chunk plaintexts, taking sizes from `sizes` in turn (cycling); the
 * remainder that fits in one chunk becomes the final chunk, which may be empty only when
 * `data` is.
 */
export function split(
  data: Uint8Array,
  sizes: readonly number[] = [CHUNK_PLAINTEXT_BYTES],
): Buffer[] {
  const chunks: Buffer[] = [];
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (let turn = 0; ; turn += 1) {
    const size = sizes[turn % sizes.length]!;
    const rest = view.length - offset;
    if (rest <= size) {
      chunks.push(view.subarray(offset));
      return chunks;
    }
    chunks.push(view.subarray(offset, offset + size));
    offset += size;
  }
}

/** Seals `plaintexts` as one item, the last one marked final. */
export function sealChunks(
  plaintexts: readonly Uint8Array[],
  keys: ItemKeys = testKeys,
): SealedChunk[] {
  const sealer = new ChunkSealer(keys.payloadKey, keys.baseNonce);
  const sealed = plaintexts.map((plaintext, i) => {
    const last = i === plaintexts.length - 1;
    const [ciphertext, tag] = sealer.seal(plaintext, last);
    expect(ciphertext.length).toBe(plaintext.length);
    return { sealed: Buffer.concat([ciphertext, tag]), last };
  });
  expect(sealer.finished).toBe(true);
  return sealed;
}

/** Opens one whole sealed chunk (one piece, as when a socket read held all of it). */
export function openOne(opener: ChunkOpener, sealed: Uint8Array, last: boolean): Buffer {
  return opener.openParts([sealed], sealed.length, last);
}

/** Opens `chunks` in order and returns the joined plaintext; requires a final chunk. */
export function openChunks(chunks: readonly SealedChunk[], keys: ItemKeys = testKeys): Buffer {
  const opener = new ChunkOpener(keys.payloadKey, keys.baseNonce);
  const parts = chunks.map(({ sealed, last }) => openOne(opener, sealed, last));
  expect(opener.finished).toBe(true);
  expect(opener.chunkIndex).toBe(chunks.length);
  return Buffer.concat(parts);
}

/** Asserts that `action` throws a CryptoError with code DECRYPT_FAILED; returns it. */
export function expectDecryptFailed(action: () => unknown): CryptoError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    if (!(error instanceof CryptoError)) throw error;
    expect(error.code).toBe(ErrorCode.DECRYPT_FAILED);
    return error;
  }
  throw new Error("expected DECRYPT_FAILED, but nothing was thrown");
}

/**
 * The nonce of chunk `index`, computed independently of src/crypto with a BigInt:
 * baseNonce XOR (index as 11 bytes big-endian || lastFlag).
 */
export function referenceNonce(baseNonce: Uint8Array, index: number, last: boolean): Buffer {
  const counter = Buffer.alloc(12);
  counter.writeBigUInt64BE(BigInt(index), 3);
  counter[11] = last ? 1 : 0;
  return Buffer.from(baseNonce.map((byte, i) => byte ^ counter[i]!));
}

/** Seals one chunk with node:crypto directly, bypassing ChunkSealer's checks. */
export function referenceSeal(
  keys: ItemKeys,
  index: number,
  last: boolean,
  plaintext: Uint8Array,
): Buffer {
  const cipher = createCipheriv(
    "aes-256-gcm",
    keys.payloadKey,
    referenceNonce(keys.baseNonce, index, last),
  );
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}
