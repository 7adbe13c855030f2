import { expect } from "vitest";
import { dictJsonText } from "../../src/codecs/dict-json-text.js";
import type { DictObject, DictValue } from "../../src/codecs/dict-value.js";
import { walkExact } from "./dict-arbitraries.js";

/**
 * Asserts `actual` is exactly `expected`: the same members in the same order, integers
 * (bigints) and floats (numbers) with the same values, -0.0 apart from 0.0, strings to the
 * code unit; and every object a plain `Map`, every array a plain `Array`.
 *
 * The exact JSON text is an exact serialisation of the representation: it keeps order,
 * writes an integer without and a float always with `.`, `e` or `.0`, `-0.0` apart, each
 * double in its shortest round-trip form, and escapes lone surrogates distinctly. (vitest's
 * toEqual compares maps without regard to order, and 1n with 1 as different but 1.0 with 1
 * as the same float.)
 */
export function expectSameDict(actual: DictObject, expected: DictObject): void {
  expect(dictJsonText(actual)).toBe(dictJsonText(expected));
  for (const item of walkExact(actual)) {
    if (item instanceof Map) expect(Object.getPrototypeOf(item)).toBe(Map.prototype);
    else if (Array.isArray(item)) expect(Object.getPrototypeOf(item)).toBe(Array.prototype);
  }
}

/** A map from entries, typed as a dictionary: `dict(["a", 1n], ["b", [1.5]])`. */
export function dict(...entries: [string, DictValue][]): DictObject {
  return new Map(entries);
}
