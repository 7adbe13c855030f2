/**
 * The record layer on its own [R-RECORD]: a RecordSealer and a RecordOpener sharing a
 * key, fed whole, at every split, one byte at a time and in random splits; the opener's
 * bounds (a bad length refused from the header, one gathering buffer however a record is
 * split); failures that stick [R-FAIL].
 */
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_RECORD_PLAINTEXT_BYTES } from "../../src/crypto/constants.js";
import { CipherState } from "../../src/crypto/noise/cipher-state.js";
import { RecordOpener } from "../../src/crypto/record-opener.js";
import { RecordSealer } from "../../src/crypto/record-sealer.js";
import { CryptoError, ErrorCode } from "../../src/errors.js";

const KEY = Buffer.alloc(32, 0x42);

function cipher(): CipherState {
  const state = new CipherState();
  state.initializeKey(KEY);
  return state;
}

/** `plaintexts` sealed as consecutive records. */
function sealAll(plaintexts: readonly Buffer[]): Buffer {
  const sealer = new RecordSealer(cipher());
  return Buffer.concat(plaintexts.flatMap((p) => sealer.seal([p], p.length)));
}

/** Opens `bytes` pushed in pieces cut at `cuts`; returns the plaintexts joined. */
function openInPieces(
  bytes: Buffer,
  cuts: readonly number[],
): { plaintext: Buffer; opener: RecordOpener } {
  const opener = new RecordOpener(cipher());
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...opener.push(bytes.subarray(from, cut)));
    from = cut;
  }
  return { plaintext: Buffer.concat(out), opener };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("RecordSealer and RecordOpener", () => {
  const SIZES = [1, 2, 4095, 4096, 65_518, MAX_RECORD_PLAINTEXT_BYTES];

  it.each(SIZES)(
    "[R-RECORD] a %i-byte record: 2-byte length, ciphertext and tag; opened whole",
    (size) => {
      const plaintext = Buffer.alloc(size, 7);
      const record = sealAll([plaintext]);
      expect(record.length).toBe(2 + size + 16);
      expect(record.readUInt16BE(0)).toBe(size + 16);
      const { plaintext: opened, opener } = openInPieces(record, []);
      expect(opened.equals(plaintext)).toBe(true);
      expect(opener.atBoundary).toBe(true);
    },
  );

  it("[R-RECORD] refuses to seal an empty record or one over 65519 bytes", () => {
    const sealer = new RecordSealer(cipher());
    expect(() => sealer.seal([], 0)).toThrow(expect.objectContaining({ code: "INTERNAL" }));
    const big = Buffer.alloc(MAX_RECORD_PLAINTEXT_BYTES + 1);
    expect(() => sealer.seal([big], big.length)).toThrow(
      expect.objectContaining({ code: "INTERNAL" }),
    );
  });

  it("[R-VERIFY] split at every byte: the same plaintext, released only as whole records", () => {
    const plaintexts = [Buffer.from("first record"), Buffer.alloc(5000, 1), Buffer.from("x")];
    const bytes = sealAll(plaintexts);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { plaintext, opener } = openInPieces(bytes, [cut]);
      expect(plaintext.equals(Buffer.concat(plaintexts))).toBe(true);
      expect(opener.atBoundary).toBe(true);
    }
  });

  it("[R-VERIFY] one byte at a time: nothing is released before a record's last byte", () => {
    const plaintexts = [Buffer.from("one"), Buffer.from("two two")];
    const bytes = sealAll(plaintexts);
    const opener = new RecordOpener(cipher());
    const releasedAt: number[] = [];
    for (let at = 0; at < bytes.length; at++) {
      if (opener.push(bytes.subarray(at, at + 1)).length > 0) releasedAt.push(at);
    }
    const firstEnd = 2 + 3 + 16 - 1;
    expect(releasedAt).toEqual([firstEnd, bytes.length - 1]);
  });

  it("[R-RECORD] any split of any records gives back the plaintext (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (pieces, rawCuts) => {
          const plaintexts = pieces.map((p) => Buffer.from(p));
          const bytes = sealAll(plaintexts);
          const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const { plaintext, opener } = openInPieces(bytes, cuts);
          expect(plaintext.equals(Buffer.concat(plaintexts))).toBe(true);
          expect(opener.failure).toBeUndefined();
        },
      ),
      { numRuns: 100 },
    );
  });

  it("[R-RECORD] a length of 16 or less is refused from the header, before anything is buffered", () => {
    for (const length of [0, 1, 16]) {
      const opener = new RecordOpener(cipher());
      const header = Buffer.alloc(2);
      header.writeUInt16BE(length, 0);
      expect(opener.push(header)).toEqual([]);
      expect(opener.failure).toBeInstanceOf(CryptoError);
      expect(opener.failure?.code).toBe(ErrorCode.DECRYPT_FAILED);
    }
    // Split across two reads too.
    const opener = new RecordOpener(cipher());
    opener.push(Buffer.from([0x00]));
    expect(opener.failure).toBeUndefined();
    opener.push(Buffer.from([0x10]));
    expect(opener.failure?.code).toBe(ErrorCode.DECRYPT_FAILED);
  });

  it("[R-RECORD] a 65535-byte record split over thousands of reads holds one buffer, and keeps none of the reads", () => {
    const plaintext = Buffer.alloc(MAX_RECORD_PLAINTEXT_BYTES, 0x5a);
    const record = sealAll([plaintext]);
    const opener = new RecordOpener(cipher());
    const allocations = vi.spyOn(Buffer, "allocUnsafe");
    const opened: Buffer[] = [];
    const reads = 3000;
    const step = Math.ceil(record.length / reads);
    for (let at = 0; at < record.length; at += step) {
      // Each read's buffer is reused by the "socket" at once: the opener must have copied.
      const read = Buffer.from(record.subarray(at, at + step));
      opened.push(...opener.push(read));
      read.fill(0);
    }
    expect(Buffer.concat(opened).equals(plaintext)).toBe(true);
    // One gathering buffer; decryption's output is made by the cipher, not here.
    expect(allocations.mock.calls.filter(([size]) => size === 65_535)).toHaveLength(1);
  });

  it("[R-FAIL] a record tampered with, dropped, repeated or moved fails; the records before it are released; the failure sticks", () => {
    const plaintexts = [Buffer.from("a"), Buffer.from("b"), Buffer.from("c")];
    const sealer = new RecordSealer(cipher());
    const records = plaintexts.map((p) => Buffer.concat(sealer.seal([p], p.length)));
    const cases: Record<string, Buffer[]> = {
      tampered: [records[0]!, Buffer.from(records[1]!).fill(1, 5, 6), records[2]!],
      dropped: [records[0]!, records[2]!],
      repeated: [records[0]!, records[0]!, records[1]!],
      moved: [records[0]!, records[2]!, records[1]!],
    };
    for (const [what, sequence] of Object.entries(cases)) {
      const opener = new RecordOpener(cipher());
      const released = opener.push(Buffer.concat(sequence));
      expect(
        released.map((p) => p.toString()),
        what,
      ).toEqual(["a"]);
      expect(opener.failure?.code, what).toBe(ErrorCode.DECRYPT_FAILED);
      expect(() => opener.push(Buffer.from([0])), what).toThrow(opener.failure!);
    }
  });

  it("[R-END] a record cut short is not at a boundary", () => {
    const record = sealAll([Buffer.from("abc")]);
    const opener = new RecordOpener(cipher());
    expect(opener.push(record.subarray(0, 1))).toEqual([]);
    expect(opener.atBoundary).toBe(false);
    expect(opener.push(record.subarray(1, 10))).toEqual([]);
    expect(opener.atBoundary).toBe(false);
    expect(opener.push(record.subarray(10)).map(String)).toEqual(["abc"]);
    expect(opener.atBoundary).toBe(true);
  });
});
