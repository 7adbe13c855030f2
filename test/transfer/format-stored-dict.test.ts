import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/codecs/json-value.js";
import { formatStoredDict } from "../../src/transfer/format-stored-dict.js";

describe("formatStoredDict", () => {
  it("stores an ordinary dictionary pretty-printed", () => {
    const value = { a: 1, b: [true, null], c: { d: "e" } };
    expect(formatStoredDict(value, 40).toString()).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it("stores compact JSON when indentation would multiply the size", () => {
    // 60 levels of nesting around many tiny values: pretty output would be ~120x larger.
    let inner: JsonValue = Array.from({ length: 20_000 }, () => 0);
    for (let depth = 0; depth < 60; depth++) inner = [inner];
    const value = { deep: inner };
    const wireBytes = JSON.stringify(value).length;
    const stored = formatStoredDict(value, wireBytes);
    expect(stored.toString()).toBe(`${JSON.stringify(value)}\n`);
    expect(JSON.parse(stored.toString())).toEqual(value);
  });
});
