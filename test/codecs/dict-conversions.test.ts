/**
 * toDictObject (plain → exact) and toPlainObject (exact → plain, only when lossless).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { DictObject } from "../../src/codecs/dict-value.js";
import type { JsonObject } from "../../src/codecs/json-value.js";
import { DEFAULT_DICT_LIMITS } from "../../src/codecs/limits.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { toPlainObject } from "../../src/codecs/to-plain-object.js";
import { ErrorCode } from "../../src/errors.js";
import { jsonDictArbitrary } from "./dict-arbitraries.js";
import { expectCodecError } from "./expect-codec-error.js";
import { dict, expectSameDict } from "./expect-same-dict.js";

describe("[C-MODEL] toDictObject", () => {
  test("a safe integer other than -0 becomes an integer, any other number a float", () => {
    const exact = toDictObject({
      i: 42,
      n: -7,
      max: Number.MAX_SAFE_INTEGER,
      z: 0,
      nz: -0,
      f: 1.5,
      beyond: 2 ** 53,
      huge: 1e300,
    });
    expectSameDict(
      exact,
      dict(
        ["i", 42n],
        ["n", -7n],
        ["max", 9007199254740991n],
        ["z", 0n],
        ["nz", -0],
        ["f", 1.5],
        ["beyond", 2 ** 53],
        ["huge", 1e300],
      ),
    );
  });

  test("keeps the plain object's own key order (integer-like keys already first)", () => {
    const plain: JsonObject = { b: 1, "10": 2, "2": 3 };
    expect([...toDictObject(plain).keys()]).toEqual(["2", "10", "b"]);
  });

  test("makes maps of nested objects, copies arrays, and keeps __proto__ as a key", () => {
    const plain = JSON.parse('{"__proto__":{"a":[{"b":null}]},"s":"x"}') as JsonObject;
    const exact = toDictObject(plain);
    expectSameDict(exact, dict(["__proto__", dict(["a", [dict(["b", null])]])], ["s", "x"]));
  });

  test("applies the limits", () => {
    expectCodecError(
      () => toDictObject({ a: [[1]] }, { maxDepth: 2, maxValues: 100 }),
      ErrorCode.DICT_TOO_DEEP,
    );
    expectCodecError(
      () => toDictObject({ a: [1, 2] }, { maxDepth: 2, maxValues: 3 }),
      ErrorCode.DICT_TOO_LARGE,
    );
  });

  test("refuses what is not a plain JSON tree", () => {
    for (const value of [{ a: 1n }, { a: new Map() }, { a: Number.NaN }, [1], null]) {
      expectCodecError(() => toDictObject(value as JsonObject), ErrorCode.DICT_INVALID);
    }
  });
});

describe("toPlainObject", () => {
  test("converts an exact dictionary that plain objects hold exactly", () => {
    const plain = toPlainObject(
      dict(["a", 1n], ["f", 1.5], ["nz", -0], ["l", [dict(["x", null]), "s", true]]),
    );
    expect(JSON.stringify(plain)).toBe('{"a":1,"f":1.5,"nz":0,"l":[{"x":null},"s",true]}');
    expect(Object.is(plain["nz"], -0)).toBe(true);
  });

  test("the integer/float distinction is the one thing lost: 1n and 1.0 both become 1", () => {
    expect(toPlainObject(dict(["i", 1n], ["f", 1]))).toEqual({ i: 1, f: 1 });
  });

  test("integers with an exact number convert, even past 2^53", () => {
    expect(toPlainObject(dict(["a", 2n ** 60n], ["b", -(2n ** 53n)]))).toEqual({
      a: 2 ** 60,
      b: -(2 ** 53),
    });
  });

  test("refuses an integer no number holds exactly, with a clear DICT_INVALID", () => {
    const error = expectCodecError(
      () => toPlainObject(dict(["a", [9007199254740993n]])),
      ErrorCode.DICT_INVALID,
    );
    expect(error.message).toContain("9007199254740993");
    expectCodecError(() => toPlainObject(dict(["a", 10n ** 400n])), ErrorCode.DICT_INVALID);
  });

  test("refuses an order a plain object would change, at any depth", () => {
    const error = expectCodecError(
      () => toPlainObject(dict(["b", 1n], ["10", 2n])),
      ErrorCode.DICT_INVALID,
    );
    expect(error.message).toContain('"10"');
    expectCodecError(
      () => toPlainObject(dict(["o", dict(["10", 1n], ["2", 2n])])),
      ErrorCode.DICT_INVALID,
    );
    // Integer-like keys already in ascending order and first are fine.
    expect(Object.keys(toPlainObject(dict(["2", 1n], ["10", 2n], ["b", 3n])))).toEqual([
      "2",
      "10",
      "b",
    ]);
  });

  test("keeps __proto__ an ordinary own key", () => {
    const plain = toPlainObject(dict(["__proto__", dict(["polluted", true])]));
    expect(Object.keys(plain)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  test("refuses a tree deeper than the limit (a cyclic map included)", () => {
    const cyclic: DictObject = new Map();
    cyclic.set("self", cyclic);
    expectCodecError(() => toPlainObject(cyclic), ErrorCode.DICT_TOO_DEEP);
    expectCodecError(
      () => toPlainObject(dict(["a", [[]]]), { maxDepth: 2 }),
      ErrorCode.DICT_TOO_DEEP,
    );
  });

  test("plain → exact → plain is the identity (property)", () => {
    fc.assert(
      fc.property(jsonDictArbitrary({ loneSurrogates: true }), (plain) => {
        const back = toPlainObject(toDictObject(plain, DEFAULT_DICT_LIMITS));
        expect(JSON.stringify(back)).toBe(JSON.stringify(plain));
        expect(back).toEqual(plain);
      }),
      { numRuns: 300 },
    );
  });
});
