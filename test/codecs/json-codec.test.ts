import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { dictJsonText } from "../../src/codecs/dict-json-text.js";
import type { DictValue } from "../../src/codecs/dict-value.js";
import { DictTextError } from "../../src/codecs/dict-text-error.js";
import { decodeJsonDict, encodeJsonDict, parseDictJson } from "../../src/codecs/json-codec.js";
import { DEFAULT_DICT_LIMITS, MAX_DICT_DEPTH } from "../../src/codecs/limits.js";
import { ErrorCode } from "../../src/errors.js";
import { exactDictArbitrary } from "./dict-arbitraries.js";
import { expectCodecError } from "./expect-codec-error.js";
import { dict, expectSameDict } from "./expect-same-dict.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const decode = (json: string) => decodeJsonDict(utf8.encode(json), DEFAULT_DICT_LIMITS);
const BOM = [0xef, 0xbb, 0xbf];

describe("encodeJsonDict", () => {
  test("writes compact UTF-8 JSON in the order written", () => {
    const bytes = encodeJsonDict(
      dict(["b", 1n], ["a", [true, null]], ["10", "x"], ["2", dict(["", -1.5e-7])]),
    );
    expect(text.decode(bytes)).toBe('{"b":1,"a":[true,null],"10":"x","2":{"":-1.5e-7}}');
  });

  test("escapes controls and lone surrogates, so the bytes are valid UTF-8", () => {
    const bytes = encodeJsonDict(dict(["k\u0000", "\ud800\r\n\u00e9"]));
    expect(Array.from(bytes)).toEqual(
      Array.from(utf8.encode('{"k\\u0000":"\\ud800\\r\\n\u00e9"}')),
    );
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes)).not.toThrow();
  });

  test("[C-INT] [C-FLOAT] writes integers as digits, floats with a . or an exponent", () => {
    const bytes = encodeJsonDict(
      dict(
        ["i", 1n],
        ["f", 1],
        ["nz", -0],
        ["z", 0n],
        ["big", 123456789012345678901234567890n],
        ["e", 1e21],
        ["large", 2 ** 60],
        ["tiny", 5e-324],
      ),
    );
    expect(text.decode(bytes)).toBe(
      '{"i":1,"f":1.0,"nz":-0.0,"z":0,"big":123456789012345678901234567890,"e":1e+21,' +
        '"large":1152921504606847000.0,"tiny":5e-324}',
    );
  });
});

describe("[C-JSON] decodeJsonDict", () => {
  test("reads an object with every type, exactly", () => {
    expectSameDict(
      decode('{"s":"Ada & Co","n":36,"f":3.14159,"one":1.0,"b":false,"z":null,"a":[1,"2"],"o":{}}'),
      dict(
        ["s", "Ada & Co"],
        ["n", 36n],
        ["f", 3.14159],
        ["one", 1],
        ["b", false],
        ["z", null],
        ["a", [1n, "2"]],
        ["o", new Map()],
      ),
    );
  });

  test("[C-ORDER] keeps integer-like keys where they were written", () => {
    const decoded = decode('{"10":1,"2":2,"1":3,"o":{"b":0,"0":0}}');
    expect([...decoded.keys()]).toEqual(["10", "2", "1", "o"]);
    expect([...(decoded.get("o") as Map<string, DictValue>).keys()]).toEqual(["b", "0"]);
  });

  test("[C-INT] reads 9007199254740993 exactly, and integers of any size", () => {
    expect(decode('{"a":9007199254740993}').get("a")).toBe(9007199254740993n);
    const digits = "9".repeat(1000);
    expect(decode(`{"a":-${digits}}`).get("a")).toBe(-BigInt(digits));
  });

  test("[C-INT] [C-FLOAT] -0 is the integer zero; -0.0, -0e5 and -0E-3 are the float -0", () => {
    expect(decode('{"z":-0}').get("z")).toBe(0n);
    for (const spelling of ["-0.0", "-0e5", "-0E-3", "-1e-400"]) {
      expect(Object.is(decode(`{"z":${spelling}}`).get("z"), -0)).toBe(true);
    }
    expect(Object.is(decode('{"z":1e-400}').get("z"), 0)).toBe(true);
  });

  test("keeps __proto__ as an ordinary key and never pollutes", () => {
    const decoded = decode('{"__proto__":{"polluted":true},"a":1}');
    expect([...decoded.keys()]).toEqual(["__proto__", "a"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  test("[C-BOM] refuses a leading byte-order mark", () => {
    const error = expectCodecError(
      () =>
        decodeJsonDict(Uint8Array.from([...BOM, ...utf8.encode('{"a":1}')]), DEFAULT_DICT_LIMITS),
      ErrorCode.DICT_INVALID,
    );
    expect(error).toBeInstanceOf(DictTextError);
  });

  test("[C-DUP] refuses duplicate keys, at any depth, __proto__ included", () => {
    for (const json of [
      '{"a":1,"a":1}',
      '{"a":{"b":1,"c":2,"b":3}}',
      '{"l":[{"x":null,"x":null}]}',
      '{"__proto__":1,"__proto__":2}',
    ]) {
      expectCodecError(() => decode(json), ErrorCode.DICT_INVALID);
    }
  });

  test.each([
    ["a negative one at the top level", '{"a":-1e400}'],
    ["one in an array in an array", '{"a":[[[-1e400]]]}'],
    ["one in a nested object", '{"o":{"p":{"q":1e309}}}'],
    ["one in an object in an array", '{"a":[{"x":1E+400}]}'],
    ["one under __proto__", '{"__proto__":1e400}'],
  ])("[C-FINITE] refuses a number beyond the double range: %s", (_name, json) => {
    expectCodecError(() => decode(json), ErrorCode.DICT_INVALID);
  });

  test("accepts the largest and smallest doubles", () => {
    expectSameDict(
      decode('{"a":[1.7976931348623157e308,-1.7976931348623157e308,5e-324]}'),
      dict(["a", [Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324]]),
    );
  });

  test.each([
    ["a top-level array", "[1]"],
    ["a top-level string", '"x"'],
    ["a top-level null", "null"],
    ["empty input", ""],
    ["white space only", " \n"],
    ["malformed JSON", '{"a":}'],
    ["trailing data", '{"a":1} {}'],
    ["single quotes", "{'a':1}"],
    ["a trailing comma in an object", '{"a":1,}'],
    ["a trailing comma in an array", '{"a":[1,]}'],
    ["a leading zero", '{"a":01}'],
    ["a bare dot", '{"a":1.}'],
    ["a leading dot", '{"a":.5}'],
    ["a leading +", '{"a":+1}'],
    ["an exponent without digits", '{"a":1e}'],
    ["hexadecimal", '{"a":0x10}'],
    ["NaN", '{"a":NaN}'],
    ["Infinity", '{"a":-Infinity}'],
    ["an unquoted key", "{a:1}"],
    ["a raw control character in a string", '{"a":"x\ty"}'],
    ["an unknown escape", '{"a":"\\x41"}'],
    ["a short \\u escape", '{"a":"\\u12"}'],
    ["an unterminated string", '{"a":"x'],
    ["an unclosed object", '{"a":1'],
    ["a misspelt literal", '{"a":tru}'],
    ["a comment", '{"a":1 /* c */}'],
    ["a non-JSON white space (NBSP)", '{"a":\u00a01}'],
  ])("refuses %s with DICT_INVALID", (_name, json) => {
    expectCodecError(() => decode(json), ErrorCode.DICT_INVALID);
  });

  test("refuses malformed UTF-8 with DICT_INVALID and keeps the cause", () => {
    const error = expectCodecError(
      () =>
        decodeJsonDict(
          Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
          DEFAULT_DICT_LIMITS,
        ),
      ErrorCode.DICT_INVALID,
    );
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  test("refuses encoded surrogates (CESU-8) with DICT_INVALID", () => {
    const bytes = Uint8Array.from([
      ...utf8.encode('{"a":"'),
      0xed,
      0xa0,
      0x80,
      ...utf8.encode('"}'),
    ]);
    expectCodecError(() => decodeJsonDict(bytes, DEFAULT_DICT_LIMITS), ErrorCode.DICT_INVALID);
  });

  test("reads every escape, and lone surrogates escaped as \\uXXXX", () => {
    expectSameDict(
      decode('{"a":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\ud83d\\ude00\\ud800\\uDFFF"}'),
      dict(["a", '"\\/\b\f\n\r\tA\ud83d\ude00\ud800\udfff']),
    );
  });

  test("brackets inside strings, escaped quotes included, do not count as depth", () => {
    const brackets = "[{".repeat(MAX_DICT_DEPTH);
    expectSameDict(
      decode(`{"a":"\\"${brackets}\\\\","b":"${brackets}"}`),
      dict(["a", `"${brackets}\\`], ["b", brackets]),
    );
  });

  test("[C-DEPTH] depth counts both objects and arrays", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxDepth: 3 };
    expectSameDict(decodeJsonDict(utf8.encode('{"a":[{}]}'), limits), dict(["a", [new Map()]]));
    expectCodecError(
      () => decodeJsonDict(utf8.encode('{"a":[{"b":[]}]}'), limits),
      ErrorCode.DICT_TOO_DEEP,
    );
  });

  test("the value count is exact, whatever the white space, strings and numbers", () => {
    // top, "a:b", the array, -0.5e+10, true, false, null, {}, [], {"q": ...}, "x" and "\"]"
    // make 12; the keys (one holding a colon, one an escaped quote and brackets) count nothing.
    const json = ` {\n "k:" : "a:b",\r\n\t"\\"[{" : [ -0.5e+10 , true,false,null ,{ } ,[],
      {"q":"x"}, "\\"]" ] } `;
    const exact = { ...DEFAULT_DICT_LIMITS, maxValues: 12 };
    const decoded = decodeJsonDict(utf8.encode(json), exact);
    expect([...decoded.keys()]).toEqual(["k:", '"[{']);
    expectCodecError(
      () => decodeJsonDict(utf8.encode(json), { ...DEFAULT_DICT_LIMITS, maxValues: 11 }),
      ErrorCode.DICT_TOO_LARGE,
    );
  });

  test("the value count scan of long text agrees with the parser", () => {
    // Longer than maxValues characters, so the linear scan runs before the parser.
    const limits = { ...DEFAULT_DICT_LIMITS, maxValues: 50 };
    const within = `{"a":[${Array.from({ length: 48 }, () => '"x, {}[]:"').join(" , ")}]}`;
    expect(within.length).toBeGreaterThan(limits.maxValues);
    expect(decodeJsonDict(utf8.encode(within), limits).size).toBe(1);
    const over = `{"a":[${"{},".repeat(60)}{}]}`;
    expectCodecError(() => decodeJsonDict(utf8.encode(over), limits), ErrorCode.DICT_TOO_LARGE);
  });

  test("decode(encode(x)) is exactly x (property)", () => {
    fc.assert(
      fc.property(exactDictArbitrary({ loneSurrogates: true, integers: "any" }), (value) => {
        expectSameDict(decodeJsonDict(encodeJsonDict(value), DEFAULT_DICT_LIMITS), value);
      }),
      { numRuns: 300 },
    );
  });

  test("reads what JSON.parse reads, as JSON.parse reads it, order and integers aside (property)", () => {
    // Text from JSON.stringify of plain trees: JSON.parse's reading is the reference.
    const plain = fc
      .jsonValue()
      .filter((value) => typeof value === "object" && value !== null && !Array.isArray(value));
    fc.assert(
      fc.property(plain, (value) => {
        const json = JSON.stringify(value);
        const decoded = decode(json);
        const reference = JSON.parse(json, (_key, item: unknown) => item);
        expect(sameAsPlain(decoded, reference)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

/** Whether an exact value holds what a plain one does (maps compared as key sets). */
function sameAsPlain(exact: DictValue, plain: unknown): boolean {
  if (exact instanceof Map) {
    if (typeof plain !== "object" || plain === null || Array.isArray(plain)) return false;
    const keys = Object.keys(plain);
    return (
      keys.length === exact.size &&
      keys.every(
        (key) =>
          exact.has(key) &&
          sameAsPlain(exact.get(key) ?? null, (plain as Record<string, unknown>)[key]),
      )
    );
  }
  if (Array.isArray(exact)) {
    return (
      Array.isArray(plain) &&
      plain.length === exact.length &&
      exact.every((item, index) => sameAsPlain(item, plain[index]))
    );
  }
  if (typeof exact === "bigint") return typeof plain === "number" && Number(exact) === plain;
  return Object.is(exact, plain) || (typeof exact === "number" && exact === plain);
}

describe("parseDictJson", () => {
  test("reads what the wire decoder reads", () => {
    const json = '{"10":1,"2":[1.0,-0,-0.0,18446744073709551616],"s":"\\u0000"}';
    expect(dictJsonText(parseDictJson(json))).toBe(dictJsonText(decode(json)));
  });

  test("[C-BOM] accepts a leading byte-order mark, as editors on Windows write it", () => {
    expectSameDict(parseDictJson('\ufeff{"a":1}'), dict(["a", 1n]));
  });

  test("a byte-order mark anywhere else is an error", () => {
    expectCodecError(() => parseDictJson('{"a":\ufeff1}'), ErrorCode.DICT_INVALID);
    expectCodecError(() => parseDictJson('\ufeff\ufeff{"a":1}'), ErrorCode.DICT_INVALID);
  });

  test.each([
    ["an error on the first line", '{"a":1,,}', { line: 1, column: 8, offset: 7 }],
    ["an error after LF", '{\n  "a": 1,\n  "b": x\n}', { line: 3, column: 8, offset: 19 }],
    ["an error after CR LF", '{\r\n  "a": tru\r\n}', { line: 2, column: 8, offset: 10 }],
    ["an error after a lone CR", '{\r"a":-}', { line: 2, column: 6, offset: 7 }],
    ["the end of the text", '{"a":[1,2', { line: 1, column: 10, offset: 9 }],
    ["a duplicate key (at the key)", '{\n "k": 1,\n "k": 2\n}', { line: 3, column: 2, offset: 12 }],
    ["a number beyond the double range", '{"a": 1e999}', { line: 1, column: 7, offset: 6 }],
    ["a raw control character", '{"a": "x\u0001"}', { line: 1, column: 9, offset: 8 }],
    // Columns count characters: the emoji is two UTF-16 units but one column.
    ["after astral characters", '{"😀😀": x}', { line: 1, column: 8, offset: 9 }],
    // The mark is not a column, but it is an offset.
    ["after a byte-order mark", '\ufeff{"a" 1}', { line: 1, column: 6, offset: 6 }],
  ])("a syntax error carries its position: %s", (_name, json, position) => {
    const error = expectCodecError(() => parseDictJson(json), ErrorCode.DICT_INVALID);
    if (!(error instanceof DictTextError)) throw new Error("expected a DictTextError");
    expect(error.position).toEqual(position);
    expect(error.message).toContain(`line ${position.line}, column ${position.column}`);
  });

  test("the limits apply; the length of the text does not", () => {
    const deep = `{"a":${"[".repeat(MAX_DICT_DEPTH)}${"]".repeat(MAX_DICT_DEPTH)}}`;
    expectCodecError(() => parseDictJson(deep), ErrorCode.DICT_TOO_DEEP);
    expectCodecError(
      () => parseDictJson('{"a":[1,2,3]}', { maxDepth: 64, maxValues: 4 }),
      ErrorCode.DICT_TOO_LARGE,
    );
    const long = `{"a":"${" ".repeat(DEFAULT_DICT_LIMITS.maxBytes)}"}`;
    expect(parseDictJson(long).get("a")).toHaveLength(DEFAULT_DICT_LIMITS.maxBytes);
  });
});
