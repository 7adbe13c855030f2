/**
 * fast-check arbitraries for dictionaries that stress every codec: all of UTF-16 (lone
 * surrogates, C0/C1 controls, U+FFFE/U+FFFF, BOM, line separators), XML-special characters,
 * and keys that are dangerous in JavaScript (`__proto__`, `constructor`, `prototype`).
 */

import fc from "fast-check";
import type { DictObject, DictValue } from "../../src/codecs/dict-value.js";
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

/**
 * Keys a plain JavaScript object would move to the front, in numeric order ("array
 * indices" up to 2^32 - 2), and near misses it leaves in place.
 */
export const INTEGER_LIKE_KEYS = [
  "0",
  "1",
  "2",
  "10",
  "9",
  "4294967294",
  "4294967295",
  "01",
  "-1",
  "1.0",
  "1e3",
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

/** Which integers an exact arbitrary draws: msgpack carries −2^63 .. 2^64 − 1 only. */
export type IntegerRange = "msgpack" | "any";

const INT_64_MIN = -(2n ** 63n);
const UINT_64_MAX = 2n ** 64n - 1n;

/** Integers around every boundary a codec has, and (for "any") far beyond 64 bits. */
export function anyInteger(range: IntegerRange): fc.Arbitrary<bigint> {
  const edges = [
    0n,
    -1n,
    127n,
    128n,
    -32n,
    -33n,
    255n,
    256n,
    2n ** 31n,
    -(2n ** 31n) - 1n,
    2n ** 32n,
    2n ** 53n,
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    INT_64_MIN,
    UINT_64_MAX,
  ];
  const wide: fc.Arbitrary<bigint>[] = [
    fc.bigInt({ min: -1000n, max: 1000n }),
    fc.bigInt({ min: INT_64_MIN, max: UINT_64_MAX }),
    fc.constantFrom(...edges),
  ];
  if (range === "any") {
    wide.push(
      fc.bigInt({ min: -(10n ** 80n), max: 10n ** 80n }),
      fc.constantFrom(UINT_64_MAX + 1n, INT_64_MIN - 1n, 10n ** 400n, -(7n ** 300n)),
    );
  }
  return fc.oneof(...wide);
}

/** Every finite double, -0 and integral ones included, as floats. */
export const anyFloat: fc.Arbitrary<number> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1, -1, 2 ** 53, 2 ** 64, 1e21, 1e300, 5e-324, Number.MAX_VALUE, 0.1),
  fc.integer().map((n) => n * 1),
);

export interface ExactDictArbitraryOptions extends DictArbitraryOptions {
  /** Which integers may appear. */
  readonly integers: IntegerRange;
}

/** Keys for exact dictionaries: anything, the special keys, and integer-like keys. */
function exactKey(options: DictArbitraryOptions): fc.Arbitrary<string> {
  return fc.oneof(
    anyString(options.loneSurrogates),
    fc.constantFrom(...SPECIAL_KEYS),
    fc.constantFrom(...INTEGER_LIKE_KEYS),
  );
}

/** A map of unique keys in the drawn order (which is rarely a plain object's order). */
function mapOf(
  key: fc.Arbitrary<string>,
  value: fc.Arbitrary<DictValue>,
  maxKeys: number,
  depthIdentifier?: string,
): fc.Arbitrary<DictObject> {
  return fc
    .uniqueArray(fc.tuple(key, value), {
      maxLength: maxKeys,
      selector: ([k]) => k,
      ...(depthIdentifier === undefined ? {} : { depthIdentifier }),
    })
    .map((entries) => new Map(entries));
}

/**
 * Arbitrary exact dictionaries: members in any order (integer-like keys included), integers
 * as bigints, floats as numbers (-0 and integral values included), all of UTF-16 in keys
 * and strings.
 */
export function exactDictArbitrary(options: ExactDictArbitraryOptions): fc.Arbitrary<DictObject> {
  const text = anyString(options.loneSurrogates);
  const key = exactKey(options);
  const tree = fc.letrec<{ value: DictValue; array: DictValue[]; object: DictObject }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 4, depthIdentifier: "exact" },
      fc.constant(null),
      fc.boolean(),
      anyInteger(options.integers),
      anyFloat,
      text,
      tie("array"),
      tie("object"),
    ),
    array: fc.array(tie("value"), { maxLength: 4, depthIdentifier: "exact" }),
    object: mapOf(key, tie("value"), 5, "exact"),
  }));
  return mapOf(key, tree.value, 8);
}

/** Every value in an exact tree, for checks that must hold everywhere. */
export function* walkExact(value: DictValue): Generator<DictValue> {
  yield value;
  if (Array.isArray(value)) {
    for (const item of value) yield* walkExact(item);
  } else if (value instanceof Map) {
    for (const item of value.values()) yield* walkExact(item);
  }
}
