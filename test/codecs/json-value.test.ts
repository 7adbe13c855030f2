import { describe, expect, test } from "vitest";
import {
  setOwnProperty,
  validateJsonObject,
  type JsonObject,
} from "../../src/codecs/json-value.js";
import { DEFAULT_DICT_LIMITS, MAX_DICT_VALUES } from "../../src/codecs/limits.js";
import { CodecError, ErrorCode } from "../../src/errors.js";
import { expectCodecError } from "./expect-codec-error.js";

/** The same plain tree: same keys in the same order, same values (-0 apart from 0). */
function expectSameDict(actual: JsonObject, expected: JsonObject): void {
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  expect(actual).toEqual(expected);
}

describe("setOwnProperty", () => {
  test("makes __proto__ an ordinary own key instead of changing the prototype", () => {
    const target: JsonObject = {};
    setOwnProperty(target, "__proto__", { polluted: true });
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.keys(target)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(target, "__proto__")).toEqual({
      value: { polluted: true },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(JSON.stringify(target)).toBe('{"__proto__":{"polluted":true}}');
  });
});

describe("validateJsonObject", () => {
  test("returns a fresh copy in the same key order", () => {
    const source = { b: [1, { c: null }], a: "x" };
    const copy = validateJsonObject(source, DEFAULT_DICT_LIMITS);
    expectSameDict(copy, source);
    expect(copy).not.toBe(source);
    expect(copy["b"]).not.toBe(source.b);
  });

  test("keeps -0 at every depth (the float negative zero)", () => {
    const copy = validateJsonObject({ a: -0, b: [-0], c: { d: -0 } }, DEFAULT_DICT_LIMITS);
    expect(Object.is(copy["a"], -0)).toBe(true);
    expect(Object.is((copy["b"] as number[])[0], -0)).toBe(true);
    expect(Object.is((copy["c"] as JsonObject)["d"], -0)).toBe(true);
  });

  test("drops symbol keys and non-enumerable properties, like JSON.stringify", () => {
    const source = { a: 1, [Symbol("s")]: 2 };
    Object.defineProperty(source, "hidden", { value: 3, enumerable: false });
    expectSameDict(validateJsonObject(source, DEFAULT_DICT_LIMITS), { a: 1 });
  });

  test("never runs a getter", () => {
    let called = false;
    const source = Object.defineProperty({}, "a", {
      enumerable: true,
      get: () => {
        called = true;
        return 1;
      },
    });
    expectCodecError(() => validateJsonObject(source, DEFAULT_DICT_LIMITS), ErrorCode.DICT_INVALID);
    expect(called).toBe(false);
  });

  test("refuses a Uint8Array", () => {
    const error = expectCodecError(
      () => validateJsonObject({ a: new Uint8Array(0) }, DEFAULT_DICT_LIMITS),
      ErrorCode.DICT_INVALID,
    );
    expect(error).toBeInstanceOf(CodecError);
  });

  test("counts depth from 1 at the top level", () => {
    expect(validateJsonObject({}, { maxDepth: 1, maxValues: MAX_DICT_VALUES })).toEqual({});
    expectCodecError(
      () => validateJsonObject({ a: [] }, { maxDepth: 1, maxValues: MAX_DICT_VALUES }),
      ErrorCode.DICT_TOO_DEEP,
    );
    expect(
      validateJsonObject({ a: [1, "x"] }, { maxDepth: 2, maxValues: MAX_DICT_VALUES }),
    ).toEqual({ a: [1, "x"] });
  });

  test("counts every value, the top level included and keys excluded", () => {
    const value = { a: [1, "x", null, true, { b: {} }], c: [] };
    // top, a, 1, "x", null, true, {b}, {}, c = 9 values.
    const exact = { maxDepth: 4, maxValues: 9 };
    expectSameDict(validateJsonObject(value, exact), value);
    const error = expectCodecError(
      () => validateJsonObject(value, { maxDepth: 4, maxValues: 8 }),
      ErrorCode.DICT_TOO_LARGE,
    );
    expect(error.message).toContain("more than 8 values");
  });

  test("a value that is not JSON is DICT_INVALID even where it would go over the count", () => {
    expectCodecError(
      () => validateJsonObject({ a: undefined }, { maxDepth: 4, maxValues: 1 }),
      ErrorCode.DICT_INVALID,
    );
  });
});
