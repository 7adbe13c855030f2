import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChunkOpener } from "../../src/crypto/chunk-opener.js";
import { ChunkSealer } from "../../src/crypto/chunk-sealer.js";
import {
  CHUNK_PLAINTEXT_BYTES,
  SEALED_CHUNK_MAX_BYTES,
  TAG_BYTES,
} from "../../src/crypto/constants.js";
import { deriveItemKeys } from "../../src/crypto/item-keys.js";
import { CryptoError, ErrorCode, GbError } from "../../src/errors.js";
import {
  expectDecryptFailed,
  openChunks,
  openOne,
  patternBytes,
  referenceSeal,
  sealChunks,
  split,
  testKeys,
  type SealedChunk,
} from "./chunk-helpers.js";

const CHUNK = CHUNK_PLAINTEXT_BYTES;
const MIB = 1024 * 1024;

/** Sizes around the chunk boundary, plus a few MiB. */
const BOUNDARY_SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1, 3 * MIB + 17];

/** A three-chunk item used by the failure tests. */
function threeChunks(): { data: Buffer; chunks: SealedChunk[] } {
  const data = patternBytes(2 * CHUNK + 100, 7);
  return { data, chunks: sealChunks(split(data)) };
}

function flipBit(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

describe("ChunkSealer / ChunkOpener round trip", () => {
  describe.each(BOUNDARY_SIZES)("%i bytes", (size) => {
    const data = patternBytes(size, size);

    it("whole: full 64 KiB chunks", () => {
      const plaintexts = split(data);
      expect(plaintexts.length).toBe(Math.max(1, Math.ceil(size / CHUNK)));
      const chunks = sealChunks(plaintexts);
      for (const { sealed } of chunks)
        expect(sealed.length).toBeLessThanOrEqual(SEALED_CHUNK_MAX_BYTES);
      expect(openChunks(chunks).equals(data)).toBe(true);
    });

    it("streaming: random chunk sizes", () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: CHUNK }), { minLength: 1, maxLength: 8 }),
          (sizes) => {
            expect(openChunks(sealChunks(split(data, sizes))).equals(data)).toBe(true);
          },
        ),
        { numRuns: size > MIB ? 3 : 15 },
      );
    });
  });

  it("one byte per chunk", () => {
    const data = patternBytes(300, 3);
    const chunks = sealChunks(split(data, [1]));
    expect(chunks.length).toBe(300);
    expect(openChunks(chunks).equals(data)).toBe(true);
  });

  it("an empty item is one empty final chunk of just a tag", () => {
    const chunks = sealChunks([Buffer.alloc(0)]);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.sealed.length).toBe(TAG_BYTES);
    expect(openChunks(chunks).length).toBe(0);
  });

  it("a non-empty item may end with an empty final chunk", () => {
    const data = patternBytes(CHUNK, 1);
    const chunks = sealChunks([data, Buffer.alloc(0)]);
    expect(openChunks(chunks).equals(data)).toBe(true);
  });

  it("streaming with random content and random chunk sizes (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4096 }),
        fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 6 }),
        (data, sizes) => {
          expect(openChunks(sealChunks(split(data, sizes))).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("accepts a sealed chunk that is a view into a larger buffer", () => {
    const data = patternBytes(1000, 5);
    const [chunk] = sealChunks([data]);
    const framed = Buffer.concat([Buffer.from([1, 2, 3]), chunk!.sealed, Buffer.from([4])]);
    const view = framed.subarray(3, 3 + chunk!.sealed.length);
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    expect(openOne(opener, view, true).equals(data)).toBe(true);
  });
});

describe("ChunkOpener.openParts (a chunk split across socket reads)", () => {
  /** Cuts `bytes` at the given offsets (sorted, deduplicated, in range). */
  function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
    const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
    const parts: Buffer[] = [];
    let start = 0;
    for (const point of [...points, bytes.length]) {
      if (point > start) parts.push(bytes.subarray(start, point));
      start = point;
    }
    return parts;
  }

  it("opens any split of a chunk, the tag too, to the same plaintext (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        (size, offsets, last) => {
          const data = patternBytes(size, size);
          const sealer = new ChunkSealer(testKeys.payloadKey, testKeys.baseNonce);
          const emptyNotLast = size === 0 && !last;
          if (emptyNotLast) return;
          const sealed = Buffer.concat(sealer.seal(data, last));
          const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
          const plaintext = opener.openParts(cut(sealed, offsets), sealed.length, last);
          expect(plaintext.equals(data)).toBe(true);
          expect(opener.chunkIndex).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses a flipped bit in a tag split between two parts", () => {
    const data = patternBytes(100, 9);
    const sealer = new ChunkSealer(testKeys.payloadKey, testKeys.baseNonce);
    const sealed = Buffer.concat(sealer.seal(data, true));
    for (const bit of [0, 7 * 8, 15 * 8 + 7]) {
      const tampered = flipBit(sealed, (sealed.length - TAG_BYTES) * 8 + bit);
      const parts = [tampered.subarray(0, sealed.length - 5), tampered.subarray(sealed.length - 5)];
      const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
      expectDecryptFailed(() => opener.openParts(parts, tampered.length, true));
    }
  });
});

describe("ChunkOpener refuses", () => {
  it("any single flipped bit in any chunk (property)", () => {
    const { chunks } = threeChunks();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: chunks.length - 1 }), fc.nat(), (target, bitSeed) => {
        const bit = bitSeed % (chunks[target]!.sealed.length * 8);
        const tampered = chunks.map((chunk, i) =>
          i === target ? { ...chunk, sealed: flipBit(chunk.sealed, bit) } : chunk,
        );
        const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
        for (let i = 0; i < target; i += 1) openOne(opener, tampered[i]!.sealed, tampered[i]!.last);
        expectDecryptFailed(() =>
          openOne(opener, tampered[target]!.sealed, tampered[target]!.last),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("a flipped bit in a small stream of random chunks (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.nat(),
        fc.nat(),
        (data, size, chunkSeed, bitSeed) => {
          const chunks = sealChunks(split(data, [size]));
          const target = chunkSeed % chunks.length;
          const sealed = chunks[target]!.sealed;
          const tampered = flipBit(sealed, bitSeed % (sealed.length * 8));
          const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
          for (let i = 0; i < target; i += 1) openOne(opener, chunks[i]!.sealed, chunks[i]!.last);
          expectDecryptFailed(() => openOne(opener, tampered, chunks[target]!.last));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("truncation: the chunk before a dropped final chunk cannot pass as final", () => {
    const { chunks } = threeChunks();
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    openOne(opener, chunks[0]!.sealed, false);
    expectDecryptFailed(() => openOne(opener, chunks[1]!.sealed, true));
  });

  it("truncation: an item with only its first chunk, marked final", () => {
    const { chunks } = threeChunks();
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    expectDecryptFailed(() => openOne(opener, chunks[0]!.sealed, true));
  });

  it("truncation: input that ends at a chunk boundary is not finished (the framing says so: [S-END])", () => {
    const { chunks } = threeChunks();
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    openOne(opener, chunks[0]!.sealed, false);
    openOne(opener, chunks[1]!.sealed, false);
    expect(opener.finished).toBe(false);
    expect(opener.chunkIndex).toBe(2);
  });

  it("reordering: two chunks swapped", () => {
    const { chunks } = threeChunks();
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    expectDecryptFailed(() => openOne(opener, chunks[1]!.sealed, false));
  });

  it("reordering: a chunk repeated", () => {
    const { chunks } = threeChunks();
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    openOne(opener, chunks[0]!.sealed, false);
    expectDecryptFailed(() => openOne(opener, chunks[0]!.sealed, false));
  });

  it("trailing data: any chunk after the final one", () => {
    const { chunks } = threeChunks();
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    for (const { sealed, last } of chunks) openOne(opener, sealed, last);
    expect(opener.finished).toBe(true);
    for (const last of [false, true]) {
      const error = expectDecryptFailed(() => openOne(opener, chunks[0]!.sealed, last));
      expect(error.message).toMatch(/trailing data after the final chunk/);
    }
  });

  it("trailing data: a second item's chunks appended after an empty item", () => {
    const chunks = [...sealChunks([Buffer.alloc(0)]), ...sealChunks([Buffer.from("x")])];
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    openOne(opener, chunks[0]!.sealed, true);
    expectDecryptFailed(() => openOne(opener, chunks[1]!.sealed, true));
  });

  it("a final chunk presented as non-final, and a non-final one as final", () => {
    const { chunks } = threeChunks();
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    openOne(opener, chunks[0]!.sealed, false);
    openOne(opener, chunks[1]!.sealed, false);
    expectDecryptFailed(() => openOne(opener, chunks[2]!.sealed, false));

    const single = sealChunks([Buffer.from("one chunk")]);
    expectDecryptFailed(() =>
      openOne(new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce), single[0]!.sealed, false),
    );
  });

  it("the wrong payload key", () => {
    const { chunks } = threeChunks();
    const wrongKey = Buffer.from(testKeys.payloadKey);
    wrongKey[0]! ^= 1;
    const opener = new ChunkOpener(wrongKey, testKeys.baseNonce);
    expectDecryptFailed(() => openOne(opener, chunks[0]!.sealed, false));
  });

  it("another item's keys (another salt)", () => {
    const { chunks } = threeChunks();
    const other = deriveItemKeys(Buffer.alloc(32, 0x42), Buffer.alloc(16, 0x18));
    expectDecryptFailed(() => openChunks(chunks, other));
  });

  it("the wrong base nonce", () => {
    const { chunks } = threeChunks();
    const wrongNonce = Buffer.from(testKeys.baseNonce);
    wrongNonce[11]! ^= 0x80;
    const opener = new ChunkOpener(testKeys.payloadKey, wrongNonce);
    expectDecryptFailed(() => openOne(opener, chunks[0]!.sealed, false));
  });

  it("a sealed chunk shorter than a tag or longer than the maximum", () => {
    for (const length of [0, 1, TAG_BYTES - 1, SEALED_CHUNK_MAX_BYTES + 1]) {
      for (const last of [false, true]) {
        const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
        expectDecryptFailed(() => openOne(opener, Buffer.alloc(length), last));
      }
    }
  });

  it("[F-SEALED-MIN] by length alone: a non-final chunk under 17 bytes, a final one under 16", () => {
    // Valid seals of an empty plaintext: only the length rule can refuse the non-final one.
    const emptyNonFinal = referenceSeal(testKeys, 0, false, Buffer.alloc(0));
    const emptyFinal = referenceSeal(testKeys, 0, true, Buffer.alloc(0));
    expectDecryptFailed(() =>
      openOne(new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce), emptyNonFinal, false),
    );
    for (const length of [0, 1, TAG_BYTES - 1]) {
      expectDecryptFailed(() =>
        openOne(
          new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce),
          emptyFinal.subarray(0, length),
          true,
        ),
      );
    }
    // The boundaries themselves: 17 bytes non-final, 16 bytes final.
    const oneByte = referenceSeal(testKeys, 0, false, Buffer.from("x"));
    expect(oneByte.length).toBe(TAG_BYTES + 1);
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    expect(openOne(opener, oneByte, false).toString()).toBe("x");
    expect(openOne(opener, referenceSeal(testKeys, 1, true, Buffer.alloc(0)), true).length).toBe(0);
    expect(opener.finished).toBe(true);
  });

  it("an empty non-final chunk, even with a valid tag [F-SEALED-MIN]", () => {
    // ChunkSealer refuses to produce one, so seal it with node:crypto directly.
    const sealed = referenceSeal(testKeys, 0, false, Buffer.alloc(0));
    expect(sealed.length).toBe(TAG_BYTES);
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    expectDecryptFailed(() => openOne(opener, sealed, false));
  });

  it("matches an independent reference implementation of the chunk nonces", () => {
    const data = patternBytes(3 * 1000 + 5, 9);
    const chunks = sealChunks(split(data, [1000]));
    chunks.forEach(({ sealed, last }, i) => {
      const plaintext = data.subarray(i * 1000, (i + 1) * 1000);
      expect(sealed.equals(referenceSeal(testKeys, i, last, plaintext))).toBe(true);
    });
  });

  it("everything after a failure, even valid chunks", () => {
    const { chunks } = threeChunks();
    const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
    const first = expectDecryptFailed(() => openOne(opener, flipBit(chunks[0]!.sealed, 0), false));
    const again = expectDecryptFailed(() => openOne(opener, chunks[0]!.sealed, false));
    expect(again).toBe(first);
    expect(opener.chunkIndex).toBe(0);
    expect(opener.finished).toBe(false);
  });

  it("only CryptoError DECRYPT_FAILED escapes for arbitrary input (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.boolean()), {
          minLength: 1,
          maxLength: 5,
        }),
        (inputs) => {
          const opener = new ChunkOpener(testKeys.payloadKey, testKeys.baseNonce);
          expectDecryptFailed(() => {
            for (const [sealed, last] of inputs) openOne(opener, sealed, last);
          });
        },
      ),
    );
  });
});

describe("ChunkSealer refuses misuse with INTERNAL", () => {
  function expectInternal(action: () => unknown): void {
    try {
      action();
    } catch (error) {
      expect(error).toBeInstanceOf(GbError);
      expect(error).not.toBeInstanceOf(CryptoError);
      if (!(error instanceof GbError)) throw error;
      expect(error.code).toBe(ErrorCode.INTERNAL);
      return;
    }
    throw new Error("expected INTERNAL, but nothing was thrown");
  }

  it("a chunk after the final chunk", () => {
    const sealer = new ChunkSealer(testKeys.payloadKey, testKeys.baseNonce);
    sealer.seal(Buffer.from("x"), true);
    expect(sealer.finished).toBe(true);
    expectInternal(() => sealer.seal(Buffer.from("y"), true));
    expectInternal(() => sealer.seal(Buffer.from("y"), false));
  });

  it("an over-size chunk", () => {
    const sealer = new ChunkSealer(testKeys.payloadKey, testKeys.baseNonce);
    expectInternal(() => sealer.seal(Buffer.alloc(CHUNK + 1), false));
    expectInternal(() => sealer.seal(Buffer.alloc(CHUNK + 1), true));
    expect(sealer.chunkIndex).toBe(0);
  });

  it("an empty non-final chunk", () => {
    const sealer = new ChunkSealer(testKeys.payloadKey, testKeys.baseNonce);
    expectInternal(() => sealer.seal(Buffer.alloc(0), false));
  });

  it("keys of the wrong length", () => {
    expectInternal(() => new ChunkSealer(Buffer.alloc(16), testKeys.baseNonce));
    expectInternal(() => new ChunkSealer(testKeys.payloadKey, Buffer.alloc(16)));
    expectInternal(() => new ChunkOpener(Buffer.alloc(31), testKeys.baseNonce));
    expectInternal(() => new ChunkOpener(testKeys.payloadKey, Buffer.alloc(11)));
  });

  it("is unaffected by later changes to the caller's key buffers", () => {
    const key = Buffer.from(testKeys.payloadKey);
    const nonce = Buffer.from(testKeys.baseNonce);
    const sealer = new ChunkSealer(key, nonce);
    key.fill(0);
    nonce.fill(0);
    const [ciphertext, tag] = sealer.seal(Buffer.from("abc"), true);
    expect(openChunks([{ sealed: Buffer.concat([ciphertext, tag]), last: true }]).toString()).toBe(
      "abc",
    );
  });
});
