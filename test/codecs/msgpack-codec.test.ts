import { decode as referenceDecode, encode as referenceEncode } from "@msgpack/msgpack";
import { describe, expect, test } from "vitest";
import { DEFAULT_DICT_LIMITS } from "../../src/codecs/limits.js";
import { decodeMsgpackDict, encodeMsgpackDict } from "../../src/codecs/msgpack-codec.js";
import { ErrorCode } from "../../src/errors.js";
import { expectCodecError } from "./expect-codec-error.js";
import { expectSameDict } from "./expect-same-dict.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const fromHex = (text: string): Uint8Array =>
  Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
const decode = (text: string) => decodeMsgpackDict(fromHex(text), DEFAULT_DICT_LIMITS);

describe("encodeMsgpackDict: known answers, checked by hand against the MessagePack spec", () => {
  test("a small dictionary", () => {
    // 83 fixmap(3) | a1 61 "a" 01 | a1 62 "b" 92 fixarray(2) c3 true c0 nil | a1 63 "c" a1 78 "x"
    expect(hex(encodeMsgpackDict({ a: 1, b: [true, null], c: "x" }))).toBe(
      "83" + "a16101" + "a16292c3c0" + "a163a178",
    );
  });

  test("numbers use the smallest int, and float 64 for everything else", () => {
    const numbers = [0, -1, -32, -33, 127, 128, 256, 65536, 2 ** 32, 1.5, -0, 2 ** 53];
    expect(hex(encodeMsgpackDict({ n: numbers }))).toBe(
      [
        "81a16e", // fixmap(1) "n"
        "9c", // fixarray(12)
        "00", // 0: positive fixint
        "ff", // -1: negative fixint
        "e0", // -32: negative fixint
        "d0df", // -33: int 8
        "7f", // 127: positive fixint
        "cc80", // 128: uint 8
        "cd0100", // 256: uint 16
        "ce00010000", // 65536: uint 32
        "cf0000000100000000", // 2^32: uint 64
        "cb3ff8000000000000", // 1.5: float 64
        "00", // -0 is written exactly as 0
        "cb4340000000000000", // 2^53 is not a safe integer: float 64
      ].join(""),
    );
  });

  test("strings longer than a fixstr use str 8, and __proto__ is an ordinary key", () => {
    const long = "y".repeat(32);
    const dict: Record<string, string> = {};
    Object.defineProperty(dict, "__proto__", { value: long, enumerable: true });
    expect(hex(encodeMsgpackDict(dict))).toBe(
      "81" + "a9" + hex(new TextEncoder().encode("__proto__")) + "d920" + "79".repeat(32),
    );
  });

  test("is standard MessagePack that another reader understands", () => {
    const dict = { a: [1, -2.5, "\u00e9\ud83d\ude00"], b: { c: null } };
    expect(referenceDecode(encodeMsgpackDict(dict))).toEqual(dict);
  });

  test("refuses a lone surrogate, which UTF-8 cannot carry", () => {
    expectCodecError(() => encodeMsgpackDict({ a: "\ud800" }), ErrorCode.DICT_INVALID);
    expectCodecError(() => encodeMsgpackDict({ ["\udc00"]: 1 }), ErrorCode.DICT_INVALID);
    expectCodecError(
      () => encodeMsgpackDict({ a: [{ b: "x".repeat(80) + "\ud800" }] }),
      ErrorCode.DICT_INVALID,
    );
  });
});

describe("decodeMsgpackDict", () => {
  test("reads the known answers back", () => {
    expectSameDict(decode("83 a16101 a16292c3c0 a163a178"), { a: 1, b: [true, null], c: "x" });
  });

  test("reads the wider forms other encoders may choose", () => {
    // map 16 { str 8 "a": array 16 [ float 32 1.5, int 16 -2, uint 64 7, str 16 "x" ] }
    expectSameDict(decode("de0001 d90161 dc0004 ca3fc00000 d1fffe cf0000000000000007 da000178"), {
      a: [1.5, -2, 7, "x"],
    });
    expectSameDict(decode("df00000001 a161 dd00000000"), { a: [] });
  });

  test("keeps __proto__ as an own key and never pollutes", () => {
    // { "__proto__": { "polluted": true } }
    const decoded = decode("81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 c3");
    expect(Object.keys(decoded)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(decoded, "__proto__")?.value).toEqual({
      polluted: true,
    });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  test("keeps a leading U+FEFF in long strings (the library alone would drop it)", () => {
    const text = "\ufeff" + "x".repeat(300);
    const bytes = referenceEncode({ a: text, ["\ufeffkey"]: 1 });
    const decoded = decodeMsgpackDict(bytes, DEFAULT_DICT_LIMITS);
    expect(decoded["a"]).toBe(text);
    expect(Object.keys(decoded)).toEqual(["a", "\ufeffkey"]);
  });

  test("reads float -0 as 0", () => {
    expect(Object.is(decode("81 a17a cb8000000000000000")["z"], 0)).toBe(true);
  });

  describe("64-bit integers: exact doubles are accepted, others refused", () => {
    test.each([
      ["uint 64 2^60", "cf1000000000000000", 2 ** 60],
      ["int 64 -2^63", "d38000000000000000", -(2 ** 63)],
      ["int 64 2^53-1", "d3001fffffffffffff", Number.MAX_SAFE_INTEGER],
      ["int 64 -2^53", "d3ffe0000000000000", -(2 ** 53)],
    ])("%s is accepted", (_name, value, expected) => {
      expect(decode(`81 a161 ${value}`)["a"]).toBe(expected);
    });
    test.each([
      ["uint 64 2^60+1", "cf1000000000000001"],
      ["uint 64 2^64-1", "cfffffffffffffffff"],
      ["int 64 2^53+1", "d30020000000000001"],
      ["int 64 -2^63+1", "d38000000000000001"],
    ])("%s is refused", (_name, value) => {
      expectCodecError(() => decode(`81 a161 ${value}`), ErrorCode.DICT_INVALID);
    });
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
    ["a count larger than the input", "81 a161 dd ffffffff"],
    ["trailing bytes", "80 00"],
    ["a second top-level map", "80 80"],
    ["malformed UTF-8 in a value", "81 a161 a1ff"],
    ["malformed UTF-8 in a key", "81 a1ff 01"],
    ["an encoded surrogate (CESU-8)", "81 a161 a3eda080"],
    ["NaN", "81 a161 cb7ff8000000000000"],
    ["Infinity", "81 a161 cb7ff0000000000000"],
    ["float 32 -Infinity", "81 a161 caff800000"],
  ])("refuses %s with DICT_INVALID", (_name, input) => {
    expectCodecError(() => decode(input), ErrorCode.DICT_INVALID);
  });

  test("refuses ext even deep inside arrays and maps", () => {
    expectCodecError(() => decode("81 a161 91 81 a162 d6ff00000000"), ErrorCode.DICT_INVALID);
  });

  test("depth counts maps and arrays, including empty ones", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxDepth: 3 };
    expectSameDict(decodeMsgpackDict(fromHex("81 a161 91 80"), limits), { a: [{}] });
    expectCodecError(
      () => decodeMsgpackDict(fromHex("81 a161 91 81 a162 90"), limits),
      ErrorCode.DICT_TOO_DEEP,
    );
  });

  test("the structure scan counts every value but not keys", () => {
    // {"a": [{}, [], nil, {"b": 1}]}: top, array, {}, [], nil, {"b": 1}, 1 = 7 values.
    const hex = "81 a161 94 80 90 c0 81 a162 01";
    const exact = { ...DEFAULT_DICT_LIMITS, maxValues: 7 };
    expectSameDict(decodeMsgpackDict(fromHex(hex), exact), { a: [{}, [], null, { b: 1 }] });
    expectCodecError(
      () => decodeMsgpackDict(fromHex(hex), { ...DEFAULT_DICT_LIMITS, maxValues: 6 }),
      ErrorCode.DICT_TOO_LARGE,
    );
  });

  test("too many values are refused by the scan, before the trailing byte is reached", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxValues: 5 };
    expectCodecError(
      () => decodeMsgpackDict(fromHex("81 a161 94 80 80 80 80 c1"), limits),
      ErrorCode.DICT_TOO_LARGE,
    );
  });
});
