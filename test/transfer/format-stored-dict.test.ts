import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DictValue } from "../../src/codecs/dict-value.js";
import { parseDictJson } from "../../src/codecs/json-codec.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { formatStoredDict } from "../../src/transfer/server/format-stored-dict.js";
import { dict, expectSameDict } from "../codecs/expect-same-dict.js";

describe("formatStoredDict [V-DICT]", () => {
  it("stores an ordinary dictionary pretty-printed, as JSON.stringify lays it out", () => {
    const value = { a: 1, b: [true, null], c: { d: "e" } };
    expect(formatStoredDict(toDictObject(value), 40).toString()).toBe(
      `${JSON.stringify(value, null, 2)}\n`,
    );
  });

  it("stores the exact dictionary: order, integers, floats with .0, -0.0", () => {
    const value = dict(
      ["10", 9007199254740993n],
      ["2", [1, -0, 1.5, -(10n ** 30n)]],
      ["1", dict(["z", 0n], ["a", 1e300])],
    );
    const stored = formatStoredDict(value, 60).toString();
    expect(stored).toBe(
      [
        "{",
        '  "10": 9007199254740993,',
        '  "2": [',
        "    1.0,",
        "    -0.0,",
        "    1.5,",
        "    -1000000000000000000000000000000",
        "  ],",
        '  "1": {',
        '    "z": 0,',
        '    "a": 1e+300',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    expectSameDict(parseDictJson(stored), value);
  });

  it("[C-FLOAT] every float reads back from the stored file as the same double (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (float) => {
        const value = dict(["f", float], ["l", [float]]);
        const stored = parseDictJson(formatStoredDict(value, 20).toString());
        expect(Object.is(stored.get("f"), float)).toBe(true);
        expect(Object.is((stored.get("l") as DictValue[])[0], float)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("stores compact JSON when indentation would multiply the size", () => {
    // 60 levels of nesting around many tiny values: pretty output would be ~120x larger.
    let inner: DictValue = Array.from({ length: 20_000 }, () => 0n);
    for (let depth = 0; depth < 60; depth++) inner = [inner];
    const value = dict(["deep", inner], ["2", 0.5]);
    const compact = `{"deep":${"[".repeat(61)}${Array(20_000).fill("0").join(",")}${"]".repeat(61)},"2":0.5}`;
    const stored = formatStoredDict(value, compact.length);
    expect(stored.toString()).toBe(`${compact}\n`);
    expectSameDict(parseDictJson(stored.toString()), value);
  });

  it("pretty up to 8 times the wire size plus 1 MiB, compact beyond", () => {
    const allowance = 1024 * 1024;
    const big = dict(["a", Array.from({ length: 200_000 }, () => [[0n]])]);
    const bigPretty = formatStoredDict(big, 10_000_000).toString();
    const exactWire = Math.ceil((bigPretty.length - 1 - allowance) / 8);
    expect(formatStoredDict(big, exactWire).toString()).toBe(bigPretty);
    expect(formatStoredDict(big, exactWire - 1).toString()).not.toContain("\n ");
  });
});
