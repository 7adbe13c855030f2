import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { dictJsonText, writeDictJsonLines } from "../../src/codecs/dict-json-text.js";
import type { DictValue } from "../../src/codecs/dict-value.js";
import { parseDictJson } from "../../src/codecs/json-codec.js";
import type { JsonValue } from "../../src/codecs/json-value.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { exactDictArbitrary, jsonDictArbitrary } from "./dict-arbitraries.js";
import { dict, expectSameDict } from "./expect-same-dict.js";

function pretty(value: DictValue): string {
  const lines: string[] = [];
  writeDictJsonLines(value, (line) => lines.push(line) > 0);
  return lines.join("\n");
}

/** Whether JSON.stringify writes every number of a plain tree as the exact renderer does. */
function stringifiesExactly(value: JsonValue): boolean {
  if (typeof value === "number") return Number.isSafeInteger(value) || !Number.isInteger(value);
  if (Array.isArray(value)) return value.every(stringifiesExactly);
  if (value !== null && typeof value === "object") {
    return Object.values(value).every(stringifiesExactly);
  }
  return true;
}

describe("dictJsonText and writeDictJsonLines", () => {
  test("lay out a plain tree exactly as JSON.stringify does (property)", () => {
    fc.assert(
      fc.property(
        jsonDictArbitrary({ loneSurrogates: true }).filter(stringifiesExactly),
        (plain) => {
          const exact = toDictObject(plain);
          expect(dictJsonText(exact)).toBe(JSON.stringify(plain));
          expect(pretty(exact)).toBe(JSON.stringify(plain, null, 2));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("[C-ORDER] [C-INT] [C-FLOAT] both read back as exactly the dictionary (property)", () => {
    fc.assert(
      fc.property(exactDictArbitrary({ loneSurrogates: true, integers: "any" }), (value) => {
        expectSameDict(parseDictJson(dictJsonText(value)), value);
        expectSameDict(parseDictJson(pretty(value)), value);
      }),
      { numRuns: 300 },
    );
  });

  test("the layout of the exact representation", () => {
    const value = dict(
      ["10", 1n],
      ["2", [1.0, -0, 2n ** 70n, dict(), []]],
      ["s", "x"],
      ["o", dict(["b", true], ["a", null])],
    );
    expect(pretty(value)).toBe(
      [
        "{",
        '  "10": 1,',
        '  "2": [',
        "    1.0,",
        "    -0.0,",
        "    1180591620717411303424,",
        "    {},",
        "    []",
        "  ],",
        '  "s": "x",',
        '  "o": {',
        '    "b": true,',
        '    "a": null',
        "  }",
        "}",
      ].join("\n"),
    );
    expect(dictJsonText(value)).toBe(
      '{"10":1,"2":[1.0,-0.0,1180591620717411303424,{},[]],"s":"x","o":{"b":true,"a":null}}',
    );
  });

  test("the layout stops when the sink says so", () => {
    const seen: string[] = [];
    const finished = writeDictJsonLines(dict(["a", [1n, 2n, 3n]]), (line) => {
      seen.push(line);
      return seen.length < 3;
    });
    expect(finished).toBe(false);
    expect(seen).toEqual(["{", '  "a": [', "    1,"]);
  });
});
