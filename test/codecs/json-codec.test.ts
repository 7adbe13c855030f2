import { describe, expect, test, vi } from "vitest";
import { decodeJsonDict, encodeJsonDict } from "../../src/codecs/json-codec.js";
import type { JsonObject } from "../../src/codecs/json-value.js";
import { DEFAULT_DICT_LIMITS, MAX_DICT_DEPTH } from "../../src/codecs/limits.js";
import { ErrorCode } from "../../src/errors.js";
import { expectCodecError } from "./expect-codec-error.js";
import { expectSameDict } from "./expect-same-dict.js";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const decode = (json: string) => decodeJsonDict(utf8.encode(json), DEFAULT_DICT_LIMITS);

describe("encodeJsonDict", () => {
  test("writes compact UTF-8 JSON in key order", () => {
    const bytes = encodeJsonDict({ a: 1, b: [true, null], c: "x", d: { "": -1.5e-7 } });
    expect(text.decode(bytes)).toBe('{"a":1,"b":[true,null],"c":"x","d":{"":-1.5e-7}}');
  });

  test("escapes controls and lone surrogates, so the bytes are valid UTF-8", () => {
    const bytes = encodeJsonDict({ "k\u0000": "\ud800\r\n\u00e9" });
    expect(Array.from(bytes)).toEqual(
      Array.from(utf8.encode('{"k\\u0000":"\\ud800\\r\\n\u00e9"}')),
    );
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes)).not.toThrow();
  });

  test("writes -0 as 0", () => {
    expect(text.decode(encodeJsonDict({ z: -0 }))).toBe('{"z":0}');
  });
});

describe("decodeJsonDict", () => {
  test("reads an object with every JSON type", () => {
    expectSameDict(
      decode('{"s":"Ada & Co","n":36,"f":3.14159,"b":false,"z":null,"a":[1,"2"],"o":{}}'),
      {
        s: "Ada & Co",
        n: 36,
        f: 3.14159,
        b: false,
        z: null,
        a: [1, "2"],
        o: {},
      },
    );
  });

  test("keeps __proto__ as an own key and never pollutes", () => {
    const decoded = decode('{"__proto__":{"polluted":true},"a":1}');
    expect(Object.keys(decoded)).toEqual(["__proto__", "a"]);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  test("accepts a leading byte order mark", () => {
    expectSameDict(
      decodeJsonDict(
        Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8.encode('{"a":1}')]),
        DEFAULT_DICT_LIMITS,
      ),
      { a: 1 },
    );
  });

  test("reads -0 as 0", () => {
    expect(Object.is(decode('{"z":-0}')["z"], 0)).toBe(true);
  });

  test.each([
    ["a top-level array", "[1]"],
    ["a top-level string", '"x"'],
    ["a top-level null", "null"],
    ["empty input", ""],
    ["malformed JSON", '{"a":}'],
    ["trailing data", '{"a":1} {}'],
    ["a number beyond the double range", '{"a":1e400}'],
    ["single quotes", "{'a':1}"],
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

  test("keeps the JSON.parse error as cause", () => {
    const error = expectCodecError(() => decode("{"), ErrorCode.DICT_INVALID);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  test("brackets inside strings, escaped quotes included, do not count as depth", () => {
    const brackets = "[{".repeat(MAX_DICT_DEPTH);
    expectSameDict(decode(`{"a":"\\"${brackets}\\\\","b":"${brackets}"}`), {
      a: `"${brackets}\\`,
      b: brackets,
    });
  });

  test("depth counts both objects and arrays", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxDepth: 3 };
    expectSameDict(decodeJsonDict(utf8.encode('{"a":[{}]}'), limits), { a: [{}] });
    expectCodecError(
      () => decodeJsonDict(utf8.encode('{"a":[{"b":[]}]}'), limits),
      ErrorCode.DICT_TOO_DEEP,
    );
  });

  test("the value scan counts exactly, whatever the whitespace, strings and numbers", () => {
    // top, "a:b", the array, -0.5e+10, true, false, null, {}, [], {"q": ...}, "x" and "\"]"
    // make 12; the keys (one holding a colon, one an escaped quote and brackets) count nothing.
    const text = ` {\n "k:" : "a:b",\r\n\t"\\"[{" : [ -0.5e+10 , true,false,null ,{ } ,[],
      {"q":"x"}, "\\"]" ] } `;
    const expected = JSON.parse(text) as JsonObject;
    const exact = { ...DEFAULT_DICT_LIMITS, maxValues: 12 };
    expectSameDict(decodeJsonDict(utf8.encode(text), exact), expected);
    expectCodecError(
      () => decodeJsonDict(utf8.encode(text), { ...DEFAULT_DICT_LIMITS, maxValues: 11 }),
      ErrorCode.DICT_TOO_LARGE,
    );
  });

  test("too many values are refused before JSON.parse runs", () => {
    const parse = vi.spyOn(JSON, "parse");
    try {
      const limits = { ...DEFAULT_DICT_LIMITS, maxValues: 50 };
      const text = `{"a":[${"{},".repeat(60)}{}]}`;
      expectCodecError(() => decodeJsonDict(utf8.encode(text), limits), ErrorCode.DICT_TOO_LARGE);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});
