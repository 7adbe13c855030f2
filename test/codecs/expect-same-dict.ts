import { expect } from "vitest";
import type { JsonValue } from "../../src/codecs/json-value.js";
import { walk } from "./dict-arbitraries.js";

/**
 * Asserts `actual` is exactly `expected`: same types, values, key order, and strings to the
 * code unit, with every object a plain `Object.prototype` object.
 *
 * vitest's toStrictEqual cannot be used: it compares `a.constructor === b.constructor`,
 * which for a dictionary with an own "constructor" key compares two of our values by
 * reference. JSON.stringify is an exact serialisation of this data model instead: it keeps
 * key order, escapes lone surrogates distinctly and writes each double in its shortest
 * round-trip form (only -0 and 0 coincide, and the data model has no -0).
 */
export function expectSameDict(actual: JsonValue, expected: JsonValue): void {
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  expect(actual).toEqual(expected);
  for (const item of walk(actual)) {
    if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    }
  }
}
