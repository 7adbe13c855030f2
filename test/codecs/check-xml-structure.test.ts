/**
 * The quick pass over large XML counts exactly what the decoder counts: every element one
 * value, `dict`, `object` and `array` one level each.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { checkXmlStructure } from "../../src/codecs/check-xml-structure.js";
import type { DictValue } from "../../src/codecs/dict-value.js";
import { encodeXmlDict } from "../../src/codecs/xml-encoder.js";
import { ErrorCode } from "../../src/errors.js";
import { exactDictArbitrary, walkExact } from "./dict-arbitraries.js";
import { expectCodecError } from "./expect-codec-error.js";

const NS = 'xmlns="urn:gb-transfer:dict:1"';

/** The deepest container depth in a value (the top-level map is 1). */
function depthOf(value: DictValue): number {
  if (value instanceof Map) return 1 + Math.max(0, ...[...value.values()].map(depthOf));
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  return 0;
}

describe("checkXmlStructure", () => {
  test("counts as the decoder does: exactly the limit passes, one less is refused (property)", () => {
    fc.assert(
      fc.property(exactDictArbitrary({ loneSurrogates: true, integers: "any" }), (value) => {
        const text = Buffer.from(encodeXmlDict(value)).toString("utf8");
        const values = [...walkExact(value)].length;
        const depth = depthOf(value);
        expect(() => {
          checkXmlStructure(text, { maxDepth: depth, maxValues: values });
        }).not.toThrow();
        expectCodecError(() => {
          checkXmlStructure(text, { maxDepth: depth, maxValues: values - 1 });
        }, ErrorCode.DICT_TOO_LARGE);
        expectCodecError(() => {
          checkXmlStructure(text, { maxDepth: depth - 1, maxValues: values });
        }, ErrorCode.DICT_TOO_DEEP);
      }),
      { numRuns: 300 },
    );
  });

  test("skips comments, CDATA and instructions; reads > in attribute values; any prefix", () => {
    const text =
      `<?xml version="1.0"?><!-- <object> <array> --><d:dict xmlns:d="urn:gb-transfer:dict:1">` +
      `<d:string key="a>b"><![CDATA[<object><object>]]></d:string>` +
      `<d:array key='x/>'><d:object/></d:array></d:dict>`;
    // dict, string, array, object: 4 values; dict > array > object: depth 3.
    expect(() => {
      checkXmlStructure(text, { maxDepth: 3, maxValues: 4 });
    }).not.toThrow();
    expectCodecError(() => {
      checkXmlStructure(text, { maxDepth: 3, maxValues: 3 });
    }, ErrorCode.DICT_TOO_LARGE);
    expectCodecError(() => {
      checkXmlStructure(text, { maxDepth: 2, maxValues: 4 });
    }, ErrorCode.DICT_TOO_DEEP);
  });

  test("the limit met first in the text wins, as in the decoder", () => {
    const deepFirst = `<dict ${NS}><array key="a"><array><null/><null/><null/></array></array></dict>`;
    expectCodecError(() => {
      checkXmlStructure(deepFirst, { maxDepth: 2, maxValues: 3 });
    }, ErrorCode.DICT_TOO_DEEP);
    const largeFirst = `<dict ${NS}><null key="a"/><null key="b"/><array key="c"><array/></array></dict>`;
    expectCodecError(() => {
      checkXmlStructure(largeFirst, { maxDepth: 2, maxValues: 2 });
    }, ErrorCode.DICT_TOO_LARGE);
  });

  test("stops without a verdict on what it does not understand, for the parser to refuse", () => {
    for (const text of [
      `<!DOCTYPE d><dict ${NS}><null key="a"/><null key="b"/></dict>`,
      `<dict ${NS}><null key="a"`,
      `<dict ${NS}><!-- unclosed`,
      `<dict ${NS}><null key="a/></dict>`,
    ]) {
      expect(() => {
        checkXmlStructure(text, { maxDepth: 1, maxValues: 1 });
      }).not.toThrow();
    }
  });
});
