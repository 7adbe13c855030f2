import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  KEY_TEXT_CHARACTERS,
  KEY_TEXT_PREFIX,
  KeyTextError,
  bech32Decode,
  bech32Encode,
  decodeKeyText,
  encodeKeyText,
  type KeyTextProblem,
} from "../../src/crypto/key-text.js";
import { CryptoError, ErrorCode } from "../../src/errors.js";
import { docString } from "../support/doc-string.js";
import { readProtocolDoc } from "../support/protocol-doc.js";
import { keyTextVectors } from "./key-text-vectors.js";

/** The Bech32 alphabet in upper case, as key texts are written. */
const ALPHABET = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
const ALPHABET_CHARACTERS = Array.from({ length: ALPHABET.length }, (_, i) => ALPHABET.charAt(i));

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** The error `run` throws; fails the test when it throws none or another kind. */
function keyTextError(run: () => unknown): KeyTextError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KeyTextError);
  if (!(caught instanceof KeyTextError)) throw new Error("expected a KeyTextError");
  return caught;
}

/** Decoding `text` fails with KEY_INVALID for `problem`, without quoting the text. */
function expectRefused(text: string, problem: KeyTextProblem): void {
  const error = keyTextError(() => decodeKeyText(text));
  expect(error).toBeInstanceOf(CryptoError);
  expect(error.code).toBe(ErrorCode.KEY_INVALID);
  expect(error.problem).toBe(problem);
  // The data part is the key: no run of it may appear in the message.
  const data = text.slice(KEY_TEXT_PREFIX.length).toLowerCase();
  for (let start = 0; start + 6 <= data.length; start += 1) {
    expect(error.message.toLowerCase()).not.toContain(data.slice(start, start + 6));
  }
}

describe("Bech32 against BIP-173's test vectors", () => {
  it.each(keyTextVectors.bip173.valid)("[KEY-TEXT] accepts %j", (text) => {
    const { hrp, data } = bech32Decode(text);
    expect(hrp).toBe(hrp.toLowerCase());
    // Encoding what was decoded gives the string back, in lower case as BIP-173 asks.
    expect(bech32Encode(hrp, data)).toBe(text.toLowerCase());
  });

  it.each(keyTextVectors.bip173.invalid.map((v) => [v.reason, v] as const))(
    "[KEY-TEXT] refuses a string with %s",
    (_reason, vector) => {
      const error = keyTextError(() => bech32Decode(vector.text));
      expect(error.code).toBe(ErrorCode.KEY_INVALID);
      expect(error.problem).toBe(vector.problem);
    },
  );

  it("refuses each valid vector with one character changed", () => {
    for (const text of keyTextVectors.bip173.valid) {
      const last = text.length - 1;
      const swapped = text[last] === "q" || text[last] === "Q" ? "p" : "q";
      const changed =
        text.slice(0, last) + (text === text.toUpperCase() ? swapped.toUpperCase() : swapped);
      expect(keyTextError(() => bech32Decode(changed)).problem, text).toBe("checksum");
    }
  });

  it("encodes only what BIP-173 allows", () => {
    for (const hrp of ["", "A", " ", "\u007f", "a".repeat(84)]) {
      expect(keyTextError(() => bech32Encode(hrp, [])).code).toBe(ErrorCode.KEY_INVALID);
    }
    expect(keyTextError(() => bech32Encode("a", [32])).problem).toBe("character");
    expect(keyTextError(() => bech32Encode("a", [-1])).problem).toBe("character");
    expect(keyTextError(() => bech32Encode("a", [0.5])).problem).toBe("character");
    expect(bech32Encode("a", new Array<number>(82).fill(0))).toHaveLength(90);
    expect(keyTextError(() => bech32Encode("a", new Array<number>(83).fill(0))).problem).toBe(
      "length",
    );
  });
});

describe("[KEY-TEXT] key text vectors (test/vectors/key-text-vectors.json)", () => {
  it.each(keyTextVectors.keys.map((v) => [v.what, v] as const))(
    "[KEY-TEXT] encodes and decodes %s",
    (_what, vector) => {
      const key = Buffer.from(vector.key, "hex");
      expect(encodeKeyText(key)).toBe(vector.text);
      expect(decodeKeyText(vector.text)).toEqual(key);
    },
  );

  it.each(keyTextVectors.texts.map((v) => [v.what, v] as const))(
    "[KEY-TEXT] %s",
    (_what, vector) => {
      if (vector.key !== undefined) {
        expect(decodeKeyText(vector.text).toString("hex")).toBe(vector.key);
      } else {
        expectRefused(vector.text, vector.problem!);
      }
    },
  );

  it("are all printed in PROTOCOL.md", () => {
    const doc = readProtocolDoc();
    for (const vector of keyTextVectors.keys) {
      const row = `| ${vector.what} | \`${vector.key}\` | \`${vector.text}\` | \`${vector.fingerprint}\` |`;
      expect(doc.includes(row), row).toBe(true);
    }
    for (const vector of keyTextVectors.texts) {
      const result = `\`${vector.key ?? vector.problem!}\``;
      const row = `| ${vector.what} | ${docString(vector.text)} | ${result} |`;
      expect(doc.includes(row), row).toBe(true);
    }
  });
});

describe("[KEY-TEXT] encodeKeyText / decodeKeyText", () => {
  it("[KEY-TEXT] round trips any key, as one upper-case line of 73 characters", () => {
    fc.assert(
      fc.property(key32, (bytes) => {
        const text = encodeKeyText(bytes);
        expect(text).toHaveLength(KEY_TEXT_CHARACTERS);
        expect(text.startsWith(KEY_TEXT_PREFIX)).toBe(true);
        expect(text).toBe(text.toUpperCase());
        expect(text).toMatch(/^GB-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/);
        expect(decodeKeyText(text)).toEqual(Buffer.from(bytes));
        expect(decodeKeyText(text.toLowerCase())).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it("[KEY-TEXT] detects any one changed character", () => {
    fc.assert(
      fc.property(
        key32,
        fc.integer({ min: 0, max: KEY_TEXT_CHARACTERS - 1 }),
        fc.integer({ min: 1, max: ALPHABET.length - 1 }),
        (bytes, position, shift) => {
          const text = encodeKeyText(bytes);
          const original = text.charAt(position);
          // In the data part, another character of the alphabet; in the prefix, any other.
          const replacement =
            position < KEY_TEXT_PREFIX.length
              ? original === "X"
                ? "Y"
                : "X"
              : ALPHABET.charAt((ALPHABET.indexOf(original) + shift) % ALPHABET.length);
          const typo = text.slice(0, position) + replacement + text.slice(position + 1);
          expect(typo).not.toBe(text);
          expectRefused(typo, position < KEY_TEXT_PREFIX.length ? "prefix" : "checksum");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("[KEY-TEXT] detects two neighbouring characters swapped", () => {
    fc.assert(
      fc.property(
        key32,
        fc.integer({ min: KEY_TEXT_PREFIX.length, max: KEY_TEXT_CHARACTERS - 2 }),
        (bytes, position) => {
          const text = encodeKeyText(bytes);
          fc.pre(text[position] !== text[position + 1]);
          const swapped =
            text.slice(0, position) +
            text[position + 1]! +
            text[position]! +
            text.slice(position + 2);
          expectRefused(swapped, "checksum");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("[KEY-TEXT] detects a character lost or added", () => {
    fc.assert(
      fc.property(
        key32,
        fc.integer({ min: KEY_TEXT_PREFIX.length, max: KEY_TEXT_CHARACTERS - 1 }),
        fc.constantFrom(...ALPHABET_CHARACTERS),
        (bytes, position, extra) => {
          const text = encodeKeyText(bytes);
          expectRefused(text.slice(0, position) + text.slice(position + 1), "length");
          expectRefused(text.slice(0, position) + extra + text.slice(position), "length");
        },
      ),
      { numRuns: 200 },
    );
  });

  it("[KEY-TEXT] refuses a text with one letter in the other case", () => {
    fc.assert(
      fc.property(key32, fc.nat(), (bytes, pick) => {
        const text = encodeKeyText(bytes);
        const letters = [...text.matchAll(/[A-Z]/g)].map((match) => match.index);
        const position = letters[pick % letters.length]!;
        const mixed =
          text.slice(0, position) + text.charAt(position).toLowerCase() + text.slice(position + 1);
        expectRefused(mixed, "mixed-case");
        const lower = text.toLowerCase();
        expectRefused(
          lower.slice(0, position) +
            lower.charAt(position).toUpperCase() +
            lower.slice(position + 1),
          "mixed-case",
        );
      }),
      { numRuns: 200 },
    );
  });

  it("[KEY-TEXT] maps only US-ASCII letters between cases", () => {
    const text = keyTextVectors.keys[0]!.text;
    // U+212A KELVIN SIGN lower-cases to "k", U+017F LONG S upper-cases to "S".
    const kelvin = text.replace("K", "\u212a");
    expectRefused(kelvin, "prefix");
    expectRefused(text.toLowerCase().replace("s", "\u017f"), "prefix");
    const dataK = text.indexOf("K", KEY_TEXT_PREFIX.length);
    expectRefused(text.slice(0, dataK) + "\u212a" + text.slice(dataK + 1), "character");
  });

  it("refuses a key that is not 32 bytes (KEY_INVALID)", () => {
    for (const length of [0, 16, 31, 33, 64]) {
      let caught: unknown;
      try {
        encodeKeyText(new Uint8Array(length));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CryptoError);
      expect((caught as CryptoError).code).toBe(ErrorCode.KEY_INVALID);
    }
  });
});
