/**
 * fast-check arbitraries for dictionaries that stress every codec: all of UTF-16 (lone
 * surrogates, C0/C1 controls, U+FFFE/U+FFFF, BOM, line separators), XML-special characters,
 * and keys that are dangerous in JavaScript (`__proto__`, `constructor`, `prototype`).
 */

import fc from "fast-check";
import type { JsonObject, JsonValue } from "../../src/codecs/json-value.js";

/** Keys that have tripped up real decoders. */
export const SPECIAL_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "",
  " ",
  "key with spaces",
  "1leading-digit",
  "<tag>",
  "a&b",
  'say "hi"',
  "it's",
  "tab\tkey",
  "line\r\nend",
  "\r",
  "]]>",
  "&amp;",
] as const;

const INTERESTING_CHARACTERS = [
  "\u0000",
  "\u0001",
  "\t",
  "\n",
  "\u000b",
  "\r",
  "\u001f",
  " ",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffe",
  "\uffff",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  "e\u0301",
  "&",
  "<",
  ">",
  '"',
  "'",
  "\\",
  "]]>",
  "&amp;",
  "<!--",
];

const isSurrogate = (codeUnit: number): boolean => codeUnit >= 0xd800 && codeUnit <= 0xdfff;

/** One UTF-16 code unit (lone surrogates included) or, optionally, never a surrogate. */
function codeUnit(loneSurrogates: boolean): fc.Arbitrary<string> {
  const units = fc.integer({ min: 0, max: 0xffff });
  return (loneSurrogates ? units : units.filter((unit) => !isSurrogate(unit))).map((unit) =>
    String.fromCharCode(unit),
  );
}

/** Strings over the whole of UTF-16, biased towards characters that break encoders. */
export function anyString(loneSurrogates: boolean): fc.Arbitrary<string> {
  const interesting = loneSurrogates
    ? INTERESTING_CHARACTERS
    : INTERESTING_CHARACTERS.filter((text) => !/\p{Cs}/u.test(text));
  const unit = fc.oneof(
    codeUnit(loneSurrogates),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((point) => String.fromCodePoint(point)),
    fc.constantFrom(...interesting),
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
  );
  return fc.string({ unit, maxLength: 12 });
}

const anyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(
    0,
    -0,
    1e300,
    -1e300,
    5e-324,
    Number.MAX_VALUE,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    2 ** 53,
    2 ** 64,
    -(2 ** 63),
    0.1,
    -1.5e-7,
  ),
);

export interface DictArbitraryOptions {
  /** Whether keys and strings may hold lone surrogates (msgpack cannot carry them). */
  readonly loneSurrogates: boolean;
}

/**
 * Arbitrary JSON objects, normalised through `JSON.parse(JSON.stringify(...))` so they are
 * exactly what the data model holds (plain objects, own `__proto__` keys, no -0).
 */
export function jsonDictArbitrary(options: DictArbitraryOptions): fc.Arbitrary<JsonObject> {
  const text = anyString(options.loneSurrogates);
  const key = fc.oneof(text, fc.constantFrom(...SPECIAL_KEYS));
  const tree = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>(
    (tie) => ({
      value: fc.oneof(
        { maxDepth: 4, depthIdentifier: "dict" },
        fc.constant(null),
        fc.boolean(),
        anyNumber,
        text,
        tie("array"),
        tie("object"),
      ),
      array: fc.array(tie("value"), { maxLength: 4, depthIdentifier: "dict" }),
      object: fc.dictionary(key, tie("value"), { maxKeys: 5, depthIdentifier: "dict" }),
    }),
  );
  return fc
    .dictionary(key, tree.value, { maxKeys: 8 })
    .map((raw): JsonObject => JSON.parse(JSON.stringify(raw)));
}

/** Every value in the tree, for checks that must hold everywhere. */
export function* walk(value: JsonValue): Generator<JsonValue> {
  yield value;
  if (Array.isArray(value)) {
    for (const item of value) yield* walk(item);
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) yield* walk(item);
  }
}
