import { decode as referenceDecode, encode as referenceEncode } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { DictValue } from "../../src/codecs/dict-value.js";
import { DEFAULT_DICT_LIMITS } from "../../src/codecs/limits.js";
import { decodeMsgpackDict } from "../../src/codecs/msgpack-decoder.js";
import { encodeMsgpackDict } from "../../src/codecs/msgpack-encoder.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { ErrorCode } from "../../src/errors.js";
import { jsonDictArbitrary } from "./dict-arbitraries.js";
import { expectCodecError } from "./expect-codec-error.js";
import { dict, expectSameDict } from "./expect-same-dict.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const fromHex = (text: string): Uint8Array =>
  Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
const decode = (text: string) => decodeMsgpackDict(fromHex(text), DEFAULT_DICT_LIMITS);

describe("encodeMsgpackDict: known answers, checked by hand against the MessagePack spec", () => {
  test("a small dictionary, in the order written", () => {
    // 83 fixmap(3) | a1 62 "b" 01 | a2 3130 "10" 92 fixarray(2) c3 true c0 nil | a1 61 "a" a1 78 "x"
    expect(hex(encodeMsgpackDict(dict(["b", 1n], ["10", [true, null]], ["a", "x"])))).toBe(
      "83" + "a16201" + "a2313092c3c0" + "a161a178",
    );
  });

  test("[C-INT] an integer is written as the smallest int or uint that holds it", () => {
    const integers = [
      0n,
      -1n,
      -32n,
      -33n,
      -128n,
      -129n,
      -32768n,
      -32769n,
      -(2n ** 31n),
      -(2n ** 31n) - 1n,
      -(2n ** 63n),
      127n,
      128n,
      255n,
      256n,
      65535n,
      65536n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 53n + 1n,
      2n ** 64n - 1n,
    ];
    expect(hex(encodeMsgpackDict(dict(["n", integers])))).toBe(
      [
        "81a16e", // fixmap(1) "n"
        "dc0015", // array 16 (21)
        "00", // 0: positive fixint
        "ff", // -1: negative fixint
        "e0", // -32: negative fixint
        "d0df", // -33: int 8
        "d080", // -128: int 8
        "d1ff7f", // -129: int 16
        "d18000", // -32768: int 16
        "d2ffff7fff", // -32769: int 32
        "d280000000", // -2^31: int 32
        "d3ffffffff7fffffff", // -2^31-1: int 64
        "d38000000000000000", // -2^63: int 64
        "7f", // 127: positive fixint
        "cc80", // 128: uint 8
        "ccff", // 255: uint 8
        "cd0100", // 256: uint 16
        "cdffff", // 65535: uint 16
        "ce00010000", // 65536: uint 32
        "ceffffffff", // 2^32-1: uint 32
        "cf0000000100000000", // 2^32: uint 64
        "cf0020000000000001", // 2^53+1: uint 64, exactly
        "cfffffffffffffffff", // 2^64-1: uint 64
      ].join(""),
    );
  });

  test("[C-FLOAT] a float is always float 64, integral or not, -0.0 included", () => {
    expect(hex(encodeMsgpackDict(dict(["f", [1, 1.5, -0, 0, 2 ** 64]])))).toBe(
      "81a166" +
        "95" +
        "cb3ff0000000000000" + // 1.0
        "cb3ff8000000000000" + // 1.5
        "cb8000000000000000" + // -0.0
        "cb0000000000000000" + // 0.0
        "cb43f0000000000000", // 2^64
    );
  });

  test("strings and containers past the fix forms use the 8- and 16-bit forms", () => {
    const long = "y".repeat(32);
    expect(hex(encodeMsgpackDict(dict(["__proto__", long])))).toBe(
      "81" + "a9" + hex(new TextEncoder().encode("__proto__")) + "d920" + "79".repeat(32),
    );
    const wide = new Map(Array.from({ length: 16 }, (_, i) => [String.fromCharCode(97 + i), null]));
    expect(hex(encodeMsgpackDict(wide)).slice(0, 6)).toBe("de0010");
    expect(hex(encodeMsgpackDict(dict(["a", "z".repeat(256)]))).slice(0, 12)).toBe("81a161da0100");
    expect(hex(encodeMsgpackDict(dict(["a", Array.from({ length: 16 }, () => null)])))).toBe(
      "81a161dc0010" + "c0".repeat(16),
    );
  });

  test("is standard MessagePack that another reader understands", () => {
    const value = dict(
      ["a", [1n, -2.5, "\u00e9\ud83d\ude00"]],
      ["b", dict(["c", null])],
      ["u", 2n ** 64n - 1n],
    );
    expect(referenceDecode(encodeMsgpackDict(value), { useBigInt64: true })).toEqual({
      a: [1, -2.5, "\u00e9\ud83d\ude00"],
      b: { c: null },
      u: 2n ** 64n - 1n,
    });
  });

  test("refuses a lone surrogate, which UTF-8 cannot carry", () => {
    expectCodecError(() => encodeMsgpackDict(dict(["a", "\ud800"])), ErrorCode.DICT_INVALID);
    expectCodecError(() => encodeMsgpackDict(dict(["\udc00", 1n])), ErrorCode.DICT_INVALID);
    expectCodecError(
      () => encodeMsgpackDict(dict(["a", [dict(["b", "x".repeat(80) + "\ud800"])]])),
      ErrorCode.DICT_INVALID,
    );
  });

  test("[C-INT] refuses an integer outside -2^63 .. 2^64-1", () => {
    expectCodecError(() => encodeMsgpackDict(dict(["a", 2n ** 64n])), ErrorCode.DICT_INVALID);
    expectCodecError(
      () => encodeMsgpackDict(dict(["a", -(2n ** 63n) - 1n])),
      ErrorCode.DICT_INVALID,
    );
  });
});

describe("[C-MSGPACK] decodeMsgpackDict", () => {
  test("reads the known answers back", () => {
    expectSameDict(
      decode("83 a16201 a2313092c3c0 a161a178"),
      dict(["b", 1n], ["10", [true, null]], ["a", "x"]),
    );
  });

  test("reads the wider forms other encoders may choose; [C-FLOAT] float 32 is a float", () => {
    // map 16 { str 8 "a": array 16 [ float 32 1.5, int 16 -2, uint 64 7, str 16 "x" ] }
    expectSameDict(
      decode("de0001 d90161 dc0004 ca3fc00000 d1fffe cf0000000000000007 da000178"),
      dict(["a", [1.5, -2n, 7n, "x"]]),
    );
    expectSameDict(decode("df00000001 a161 dd00000000"), dict(["a", []]));
    // An int 8 holding a small positive number, a uint 32 holding 1: still integers.
    expectSameDict(decode("82 a161 d005 a162 ce00000001"), dict(["a", 5n], ["b", 1n]));
  });

  test("[C-ORDER] keeps map entries in the order written", () => {
    const decoded = decode("83 a23130 01 a132 02 a131 03");
    expect([...decoded.keys()]).toEqual(["10", "2", "1"]);
  });

  test("[C-INT] every 64-bit integer is read exactly, none rounded", () => {
    const cases: [string, bigint][] = [
      ["cf1000000000000001", 2n ** 60n + 1n],
      ["cfffffffffffffffff", 2n ** 64n - 1n],
      ["d30020000000000001", 2n ** 53n + 1n],
      ["d38000000000000001", -(2n ** 63n) + 1n],
      ["d38000000000000000", -(2n ** 63n)],
    ];
    for (const [value, expected] of cases)
      expect(decode(`81 a161 ${value}`).get("a")).toBe(expected);
  });

  test("[C-FLOAT] reads float -0.0 as the float negative zero", () => {
    expect(Object.is(decode("81 a17a cb8000000000000000").get("z"), -0)).toBe(true);
    expect(Object.is(decode("81 a17a ca80000000").get("z"), -0)).toBe(true);
  });

  test("keeps __proto__ as an ordinary key and never pollutes", () => {
    // { "__proto__": { "polluted": true } }
    const decoded = decode("81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 c3");
    expectSameDict(decoded, dict(["__proto__", dict(["polluted", true])]));
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  test("keeps a leading U+FEFF in strings and keys", () => {
    const text = "\ufeff" + "x".repeat(300);
    const decoded = decodeMsgpackDict(
      referenceEncode({ a: text, ["\ufeffkey"]: 1, s: "\ufeff" }),
      DEFAULT_DICT_LIMITS,
    );
    expectSameDict(decoded, dict(["a", text], ["\ufeffkey", 1n], ["s", "\ufeff"]));
  });

  test("reads what another writer writes (property)", () => {
    fc.assert(
      fc.property(jsonDictArbitrary({ loneSurrogates: false }), (plain) => {
        // The reference writes safe integers as ints and other numbers as floats, exactly
        // as toDictObject reads a plain tree.
        const decoded = decodeMsgpackDict(referenceEncode(plain), DEFAULT_DICT_LIMITS);
        const expected = toDictObject(plain);
        expect(sameValues(decoded, expected)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  test.each([
    ["timestamp ext (fixext 4, type -1)", "81 a161 d6ff00000000"],
    ["timestamp ext (fixext 8, type -1)", "81 a161 d7ff0000000000000000"],
    ["custom fixext 1", "81 a161 d40100"],
    ["ext 8", "81 a161 c7010100"],
    ["ext 8 of length 0", "81 a161 c70001"],
    ["ext 32", "81 a161 c90000000101ff"],
    ["bin 8", "81 a161 c40178"],
    ["empty bin 8", "81 a161 c400"],
    ["bin 16", "81 a161 c5000178"],
    ["bin 32", "81 a161 c60000000178"],
    ["a bin map key", "81 c40161 01"],
    ["an int map key", "81 01 01"],
    ["a nil map key", "81 c0 01"],
    ["an array map key", "81 9161 01"],
    ["a map map key", "81 80 01"],
    ["the never-used byte 0xc1", "81 a161 c1"],
    ["a top-level array", "9101"],
    ["a top-level string", "a178"],
    ["empty input", ""],
    ["a truncated map", "82 a16101"],
    ["a truncated string", "81 a161 a3 7878"],
    ["a truncated float", "81 a161 cb3ff8"],
    ["a truncated uint 64", "81 a161 cf00000000"],
    ["a count larger than the input", "81 a161 dd ffffffff"],
    ["trailing bytes", "80 00"],
    ["a second top-level map", "80 80"],
    ["malformed UTF-8 in a value", "81 a161 a1ff"],
    ["malformed UTF-8 in a key", "81 a1ff 01"],
    ["an encoded surrogate (CESU-8)", "81 a161 a3eda080"],
    ["[C-FINITE] NaN", "81 a161 cb7ff8000000000000"],
    ["[C-FINITE] Infinity", "81 a161 cb7ff0000000000000"],
    ["[C-FINITE] float 32 -Infinity", "81 a161 caff800000"],
    ["[C-FINITE] float 32 NaN", "81 a161 ca7fc00000"],
    ["[C-DUP] a duplicate key", "82 a161 01 a161 02"],
    ["[C-DUP] a duplicate key in a nested map", "81 a16f 83 a178 01 a179 02 a178 03"],
    ["[C-DUP] a duplicate key spelt in another str form", "82 a161 01 d90161 02"],
  ])("refuses %s with DICT_INVALID", (_name, input) => {
    expectCodecError(() => decode(input), ErrorCode.DICT_INVALID);
  });

  test("refuses ext even deep inside arrays and maps", () => {
    expectCodecError(() => decode("81 a161 91 81 a162 d6ff00000000"), ErrorCode.DICT_INVALID);
  });

  test("[C-DEPTH] depth counts maps and arrays, including empty ones", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxDepth: 3 };
    expectSameDict(decodeMsgpackDict(fromHex("81 a161 91 80"), limits), dict(["a", [new Map()]]));
    expectCodecError(
      () => decodeMsgpackDict(fromHex("81 a161 91 81 a162 90"), limits),
      ErrorCode.DICT_TOO_DEEP,
    );
  });

  test("counts every value but not keys", () => {
    // {"a": [{}, [], nil, {"b": 1}]}: top, array, {}, [], nil, {"b": 1}, 1 = 7 values.
    const input = "81 a161 94 80 90 c0 81 a162 01";
    const exact = { ...DEFAULT_DICT_LIMITS, maxValues: 7 };
    expectSameDict(
      decodeMsgpackDict(fromHex(input), exact),
      dict(["a", [new Map(), [], null, dict(["b", 1n])]]),
    );
    expectCodecError(
      () => decodeMsgpackDict(fromHex(input), { ...DEFAULT_DICT_LIMITS, maxValues: 6 }),
      ErrorCode.DICT_TOO_LARGE,
    );
  });

  test("too many values are refused before the trailing byte is reached", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxValues: 5 };
    expectCodecError(
      () => decodeMsgpackDict(fromHex("81 a161 94 80 80 80 80 c1"), limits),
      ErrorCode.DICT_TOO_LARGE,
    );
  });

  test("input longer than the value limit is scanned first, and then read exactly", () => {
    // 12 bytes, limit 10 values: the scan runs, finds 8 values, and the dictionary is read.
    const limits = { ...DEFAULT_DICT_LIMITS, maxValues: 10 };
    const input = fromHex("82 a161 93 01 02 03 a162 92 c0 c3");
    expect(input.byteLength).toBeGreaterThan(limits.maxValues);
    expectSameDict(
      decodeMsgpackDict(input, limits),
      dict(["a", [1n, 2n, 3n]], ["b", [null, true]]),
    );
    expectCodecError(
      () => decodeMsgpackDict(input, { ...DEFAULT_DICT_LIMITS, maxValues: 7 }),
      ErrorCode.DICT_TOO_LARGE,
    );
    // The scan does not decode strings; the reading after it still refuses malformed ones.
    expectCodecError(
      () => decodeMsgpackDict(fromHex("81 a161 a1ff"), { ...DEFAULT_DICT_LIMITS, maxValues: 3 }),
      ErrorCode.DICT_INVALID,
    );
  });
});

/** Whether two exact values are equal, maps compared without regard to order. */
function sameValues(a: DictValue, b: DictValue): boolean {
  if (a instanceof Map) {
    return (
      b instanceof Map &&
      a.size === b.size &&
      [...a].every(([key, item]) => b.has(key) && sameValues(item, b.get(key) ?? null))
    );
  }
  if (Array.isArray(a)) {
    return (
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameValues(item, b[i] ?? null))
    );
  }
  return Object.is(a, b);
}
