/**
 * A JSON dictionary is checked, not copied, before JSON.stringify reads the caller's own
 * objects: whatever could make it write something other than what was checked is refused.
 */
import { describe, expect, it } from "vitest";
import { encodeDict, encodeJsonDictText } from "../../src/codecs/dict-format.js";
import type { JsonObject } from "../../src/codecs/json-value.js";

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

  it("accepts plain data, a toJSON key that is only data, and writes -0 as 0", () => {
    const value = { list: [1, { zero: -0 }], toJSON: "only a string", nested: { a: null } };
    const text = '{"list":[1,{"zero":0}],"toJSON":"only a string","nested":{"a":null}}';
    expect(encodeJsonDictText(value)).toBe(text);
    expect(Buffer.from(encodeDict(value, "json")).toString("utf8")).toBe(text);
  });
});
