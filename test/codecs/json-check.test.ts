/**
 * A JSON dictionary is checked, not copied, before JSON.stringify reads the caller's own
 * objects: whatever could make it write something other than what was checked is refused.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeDict, encodeJsonDictText } from "../../src/codecs/dict-format.js";
import { dictJsonText } from "../../src/codecs/dict-json-text.js";
import type { JsonObject } from "../../src/codecs/json-value.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { jsonDictArbitrary } from "./dict-arbitraries.js";

class TaggedArray extends Array<number> {
  toJSON(): string {
    return "subclass";
  }
}

const REFUSED: readonly (readonly [string, () => unknown])[] = [
  [
    "an array with a toJSON of its own",
    () => {
      const list: unknown[] = [1, 2];
      Object.assign(list, { toJSON: () => ({ injected: true }) });
      return { list };
    },
  ],
  ["an array subclass", () => ({ list: TaggedArray.from([1]) })],
  ["a proxy object", () => ({ inner: new Proxy({ x: 1 }, {}) })],
  ["a proxy array", () => ({ list: new Proxy([1], {}) })],
  ["a top-level proxy", () => new Proxy({ x: 1 }, {})],
  [
    "an accessor element",
    () => {
      const list: unknown[] = [1];
      Object.defineProperty(list, 0, { get: () => 1, enumerable: true });
      return { list };
    },
  ],
  ["a toJSON method", () => ({ toJSON: () => "x" })],
];

describe("JSON encoding checks the caller's tree it does not copy", () => {
  it.each(REFUSED)("refuses %s with DICT_INVALID", (_name, make) => {
    expect(() => encodeJsonDictText(make() as JsonObject)).toThrow(
      expect.objectContaining({ code: "DICT_INVALID" }),
    );
    expect(() => encodeDict(make() as JsonObject, "json")).toThrow(
      expect.objectContaining({ code: "DICT_INVALID" }),
    );
  });

  it("accepts plain data, a toJSON key that is only data, and writes -0 as -0.0", () => {
    const value = { list: [1, { zero: -0 }], toJSON: "only a string", nested: { a: null } };
    const text = '{"list":[1,{"zero":-0.0}],"toJSON":"only a string","nested":{"a":null}}';
    expect(encodeJsonDictText(value)).toBe(text);
    expect(Buffer.from(encodeDict(value, "json")).toString("utf8")).toBe(text);
  });

  it("[C-FLOAT] writes an integral double past 2^53 as a float, with .0", () => {
    expect(encodeJsonDictText({ a: 2 ** 53, b: [2 ** 60], c: 1e21, d: 2 ** 53 - 1 })).toBe(
      '{"a":9007199254740992.0,"b":[1152921504606847000.0],"c":1e+21,"d":9007199254740991}',
    );
  });

  it("writes a plain tree exactly as its exact form is written (property)", () => {
    fc.assert(
      fc.property(jsonDictArbitrary({ loneSurrogates: true }), (plain) => {
        expect(encodeJsonDictText(plain)).toBe(dictJsonText(toDictObject(plain)));
      }),
      { numRuns: 300 },
    );
  });
});
