/**
 * decodeJsonDict validates JSON.parse's tree in place, without copying it: these tests
 * cover what json-codec.test.ts does not — -0 and out-of-range numbers at any depth
 * (arrays, nested objects, under a "__proto__" key), "__proto__" staying an own data
 * property after the tree is modified, and the result being JSON.parse's own tree.
 */
import fc from "fast-check";
import { afterEach, describe, expect, test, vi } from "vitest";
import { decodeJsonDict } from "../../src/codecs/json-codec.js";
import type { JsonObject, JsonValue } from "../../src/codecs/json-value.js";
import { DEFAULT_DICT_LIMITS } from "../../src/codecs/limits.js";
import { ErrorCode } from "../../src/errors.js";
import { anyString, SPECIAL_KEYS, walk } from "./dict-arbitraries.js";
import { expectCodecError } from "./expect-codec-error.js";
import { expectSameDict } from "./expect-same-dict.js";

const utf8 = new TextEncoder();
const decode = (json: string): JsonObject => decodeJsonDict(utf8.encode(json), DEFAULT_DICT_LIMITS);

/** JSON.parse of `json` with every -0 turned into 0: what decodeJsonDict must return. */
const reference = (json: string): JsonObject =>
  JSON.parse(json, (_key, value: unknown) => (Object.is(value, -0) ? 0 : value)) as JsonObject;

/** Throws unless no number anywhere in `value` is -0. */
function expectNoNegativeZero(value: JsonValue): void {
  const negativeZeros = [...walk(value)].filter((item) => Object.is(item, -0));
  expect(negativeZeros).toEqual([]);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("decodeJsonDict: -0 anywhere becomes +0", () => {
  test.each([
    ["a top-level value", '{"z":-0}', (d: JsonObject) => d["z"]],
    ["a top-level -0.0", '{"z":-0.0}', (d: JsonObject) => d["z"]],
    ["a top-level -0e5", '{"z":-0e5}', (d: JsonObject) => d["z"]],
    ["a top-level -0E-3", '{"z":-0E-3}', (d: JsonObject) => d["z"]],
    ["an array item", '{"a":[1,-0,2]}', (d: JsonObject) => (d["a"] as JsonValue[])[1]],
    ["an array's first item", '{"a":[-0]}', (d: JsonObject) => (d["a"] as JsonValue[])[0]],
    [
      "an array in an array",
      '{"a":[[0,[-0]]]}',
      (d: JsonObject) => (((d["a"] as JsonValue[])[0] as JsonValue[])[1] as JsonValue[])[0],
    ],
    [
      "a nested object",
      '{"o":{"p":{"q":-0}}}',
      (d: JsonObject) => ((d["o"] as JsonObject)["p"] as JsonObject)["q"],
    ],
    [
      "an object in an array",
      '{"a":[{"x":-0}]}',
      (d: JsonObject) => ((d["a"] as JsonValue[])[0] as JsonObject)["x"],
    ],
    ["a top-level __proto__ key", '{"__proto__":-0}', (d: JsonObject) => d["__proto__"]],
    [
      "a key inside a __proto__ object",
      '{"__proto__":{"x":-0}}',
      (d: JsonObject) => (d["__proto__"] as JsonObject)["x"],
    ],
    [
      "a nested __proto__ key",
      '{"o":{"__proto__":-0}}',
      (d: JsonObject) => (d["o"] as JsonObject)["__proto__"],
    ],
    [
      "an array under __proto__",
      '{"__proto__":[-0]}',
      (d: JsonObject) => (d["__proto__"] as JsonValue[])[0],
    ],
  ])("in %s", (_name, json, pick) => {
    const decoded = decode(json);
    const value = pick(decoded);
    expect(typeof value).toBe("number");
    expect(Object.is(value, 0)).toBe(true);
    expectNoNegativeZero(decoded);
    expectSameDict(decoded, reference(json));
  });

  test("keeps every other number, key and the key order around a replaced -0", () => {
    const json = '{"a":-0,"b":-1,"c":[-0,-0.5,0,-0],"d":{"e":-0,"f":1e-7},"g":-0}';
    const decoded = decode(json);
    expect(Object.keys(decoded)).toEqual(["a", "b", "c", "d", "g"]);
    expect(Object.keys(decoded["d"] as JsonObject)).toEqual(["e", "f"]);
    expect(decoded["b"]).toBe(-1);
    expect(decoded["c"]).toHaveLength(4);
    expect((decoded["c"] as number[]).map((n) => (Object.is(n, -0) ? "-0" : n))).toEqual([
      0, -0.5, 0, 0,
    ]);
    expectNoNegativeZero(decoded);
    expectSameDict(decoded, reference(json));
  });
});

describe("decodeJsonDict: numbers beyond the double range", () => {
  test.each([
    ["a negative one at the top level", '{"a":-1e400}'],
    ["one in an array", '{"a":[1,2,1e400]}'],
    ["one in an array in an array", '{"a":[[[-1e400]]]}'],
    ["one in a nested object", '{"o":{"p":{"q":1e309}}}'],
    ["one in an object in an array", '{"a":[{"x":1E+400}]}'],
    ["one under __proto__", '{"__proto__":1e400}'],
    ["one inside a __proto__ object", '{"__proto__":{"x":[1e400]}}'],
    ["one after a -0", '{"a":-0,"b":[-0,1e400]}'],
  ])("refuses %s with DICT_INVALID", (_name, json) => {
    expectCodecError(() => decode(json), ErrorCode.DICT_INVALID);
  });

  test("accepts the largest and smallest doubles", () => {
    const decoded = decode('{"a":[1.7976931348623157e308,-1.7976931348623157e308,5e-324,1e-400]}');
    expect(decoded["a"]).toEqual([Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, 0]);
    // 1e-400 underflows to +0, -1e-400 to -0, which becomes +0.
    expect(Object.is(decode('{"a":-1e-400}')["a"], 0)).toBe(true);
  });
});

describe("decodeJsonDict: __proto__ and prototypes", () => {
  function expectOwnDataProperty(target: object, key: string, value: unknown): void {
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    expect(descriptor).toEqual({ value, writable: true, enumerable: true, configurable: true });
    if (typeof value === "number") expect(Object.is(descriptor?.value, value)).toBe(true);
  }

  test("keeps a __proto__ key whose -0 was replaced as an own, enumerable data property", () => {
    const decoded = decode('{"a":1,"__proto__":-0,"b":2}');
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(["a", "__proto__", "b"]);
    expectOwnDataProperty(decoded, "__proto__", 0);
    expect(JSON.stringify(decoded)).toBe('{"a":1,"__proto__":0,"b":2}');
  });

  test("keeps a __proto__ object as data, never as the prototype, at every depth", () => {
    const decoded = decode('{"__proto__":{"polluted":-0},"n":{"__proto__":{"x":[-0]}}}');
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(["__proto__", "n"]);
    const proto = Object.getOwnPropertyDescriptor(decoded, "__proto__")?.value as JsonObject;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expectOwnDataProperty(proto, "polluted", 0);
    expect((decoded as Record<string, unknown>)["polluted"]).toBeUndefined();
    const nested = decoded["n"] as JsonObject;
    expect(Object.getPrototypeOf(nested)).toBe(Object.prototype);
    expect(Object.keys(nested)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(({} as Record<string, unknown>)["x"]).toBeUndefined();
    expectSameDict(decoded, reference('{"__proto__":{"polluted":0},"n":{"__proto__":{"x":[0]}}}'));
  });

  test("gives every object Object.prototype and every array Array.prototype", () => {
    const decoded = decode('{"a":[{},{"b":[[],{"constructor":-0}]}],"prototype":{}}');
    for (const item of walk(decoded)) {
      if (Array.isArray(item)) expect(Object.getPrototypeOf(item)).toBe(Array.prototype);
      else if (item !== null && typeof item === "object") {
        expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
      }
    }
    expectOwnDataProperty(
      ((decoded["a"] as JsonValue[])[1] as { b: JsonValue[] }).b[1] as JsonObject,
      "constructor",
      0,
    );
  });
});

describe("decodeJsonDict: in place", () => {
  test("returns the very tree JSON.parse built, not a copy", () => {
    const parse = vi.spyOn(JSON, "parse");
    const decoded = decode('{"a":[-0,{"b":-0}],"__proto__":{"c":1}}');
    expect(parse).toHaveBeenCalledTimes(1);
    const result = parse.mock.results[0];
    expect(result?.type).toBe("return");
    expect(decoded).toBe(result?.value);
  });

  /** JSON text with -0 spellings, special keys and nesting, built directly as text. */
  const jsonText: fc.Arbitrary<string> = (() => {
    const key = fc
      .oneof(anyString(true), fc.constantFrom(...SPECIAL_KEYS))
      .map((text) => JSON.stringify(text));
    const number = fc.oneof(
      fc.constantFrom("-0", "-0.0", "-0e0", "-0E+2", "-0.000e-5", "0", "-1", "1e308", "5e-324"),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
      fc.integer().map(String),
    );
    const tree = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
      value: fc.oneof(
        { maxDepth: 4, depthIdentifier: "text" },
        fc.constantFrom("null", "true", "false"),
        number,
        anyString(true).map((text) => JSON.stringify(text)),
        tie("array"),
        tie("object"),
      ),
      array: fc
        .array(tie("value"), { maxLength: 4, depthIdentifier: "text" })
        .map((items) => `[${items.join(",")}]`),
      object: fc
        .array(fc.tuple(key, tie("value")), { maxLength: 5, depthIdentifier: "text" })
        .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(",")}}`),
    }));
    return fc
      .array(fc.tuple(key, tree.value), { maxLength: 8 })
      .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(",")}}`);
  })();

  test("equals JSON.parse of the same text, -0 aside, and holds no -0 (property)", () => {
    fc.assert(
      fc.property(jsonText, (json) => {
        const decoded = decode(json);
        expectNoNegativeZero(decoded);
        expectSameDict(decoded, reference(json));
        expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      }),
      { numRuns: 400 },
    );
  });
});
