import fc from "fast-check";
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../src/crypto/sha256-hex.js";

const reference = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

/** FIPS 180-2 / NIST known answers. */
const KNOWN_ANSWERS: readonly [string, Uint8Array, string][] = [
  [
    "empty input",
    new Uint8Array(0),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  ],
  ["abc", Buffer.from("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  [
    "the 448-bit message",
    Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  ],
  [
    "a million 'a'",
    Buffer.alloc(1_000_000, "a"),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  ],
];

/** `bytes` as a view at an offset inside a larger buffer, with junk on both sides. */
function viewOf(bytes: Uint8Array, before: number, after: number): Uint8Array {
  const backing = new Uint8Array(before + bytes.length + after).fill(0xa5);
  backing.set(bytes, before);
  return backing.subarray(before, before + bytes.length);
}

describe("sha256Hex", () => {
  it.each(KNOWN_ANSWERS)("hashes %s to the known answer", (_name, data, expected) => {
    expect(sha256Hex(data)).toBe(expected);
  });

  it("hashes a plain Uint8Array (not a Buffer) the same", () => {
    expect(sha256Hex(new TextEncoder().encode("abc"))).toBe(KNOWN_ANSWERS[1]![2]);
  });

  it("hashes only the bytes of a view, not the buffer around it", () => {
    const view = viewOf(Buffer.from("abc"), 7, 13);
    expect(view.byteOffset).toBe(7);
    expect(sha256Hex(view)).toBe(KNOWN_ANSWERS[1]![2]);
  });

  it("agrees with createHash for any input, views included (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.nat({ max: 64 }),
        fc.nat({ max: 64 }),
        (bytes, before, after) => {
          const expected = reference(bytes);
          expect(expected).toMatch(/^[0-9a-f]{64}$/);
          expect(sha256Hex(bytes)).toBe(expected);
          expect(sha256Hex(Buffer.from(bytes))).toBe(expected);
          expect(sha256Hex(viewOf(bytes, before, after))).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("sha256Hex without crypto.hash (Node before 20.12)", () => {
  afterEach(() => {
    vi.doUnmock("node:crypto");
    vi.resetModules();
  });

  it("falls back to createHash and gives the same answers", async () => {
    let createHashCalls = 0;
    vi.resetModules();
    vi.doMock("node:crypto", async (importOriginal) => {
      const actual = await importOriginal<typeof import("node:crypto")>();
      const createHashSpy: typeof actual.createHash = (...args) => {
        createHashCalls++;
        return actual.createHash(...args);
      };
      return { ...actual, hash: undefined, createHash: createHashSpy };
    });
    const fallback = await import("../../src/crypto/sha256-hex.js");
    expect(fallback.sha256Hex).not.toBe(sha256Hex);
    expect(fallback.sha256Hex(Buffer.from("abc"))).toBe(KNOWN_ANSWERS[1]![2]);
    expect(createHashCalls).toBe(1); // the fallback ran, not crypto.hash
    for (const [, data, expected] of KNOWN_ANSWERS) expect(fallback.sha256Hex(data)).toBe(expected);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.nat({ max: 16 }), (bytes, before) => {
        expect(fallback.sha256Hex(viewOf(bytes, before, 3))).toBe(reference(bytes));
      }),
      { numRuns: 100 },
    );
  });
});

describe("sha256Hex of a string", () => {
  it("hashes the string's UTF-8 bytes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
        expect(sha256Hex(text)).toBe(sha256Hex(Buffer.from(text, "utf8")));
      }),
    );
    expect(sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});
