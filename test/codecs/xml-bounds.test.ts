/**
 * [C-XML-ATTRS] [C-XML-NS] The xml decoder bounds attributes per element and namespace
 * declarations per document before the parser builds anything: a parser builds all of an
 * element's attributes (and a namespace map for its declarations) before it reports the
 * element, so a 16 MiB start tag would otherwise cost hundreds of MB.
 */
import { describe, expect, it } from "vitest";
import {
  MAX_XML_ATTRIBUTES,
  MAX_XML_NAMESPACE_DECLARATIONS,
  checkXmlStructure,
} from "../../src/codecs/check-xml-structure.js";
import { decodeDict } from "../../src/codecs/dict-format.js";
import { DEFAULT_DICT_LIMITS } from "../../src/codecs/limits.js";
import { CodecError } from "../../src/errors.js";

const NS = "urn:gb-transfer:dict:1";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof CodecError ? error.code : "not a CodecError";
  }
}

const decodeXml = (text: string) => () =>
  decodeDict(Buffer.from(text, "utf8"), "xml", DEFAULT_DICT_LIMITS);

/** `count` attributes named a0, a1, … */
function attributes(count: number, name = (i: number) => `a${i}`): string {
  return Array.from({ length: count }, (_, i) => ` ${name(i)}="x"`).join("");
}

describe("[C-XML-ATTRS] attributes per element", () => {
  it("refuses an element with more than the limit, namespace declarations included", () => {
    const many = `<dict xmlns="${NS}"><string key="k"${attributes(MAX_XML_ATTRIBUTES)}>v</string></dict>`;
    expect(
      codeOf(() => {
        checkXmlStructure(many, DEFAULT_DICT_LIMITS, false);
      }),
    ).toBe("DICT_INVALID");
    const atLimit = `<dict xmlns="${NS}"><string key="k"${attributes(MAX_XML_ATTRIBUTES - 1)}>v</string></dict>`;
    expect(
      codeOf(() => {
        checkXmlStructure(atLimit, DEFAULT_DICT_LIMITS, false);
      }),
    ).toBeUndefined();
  });

  it("reads attributes as XML writes them: either quote, white space around =, > in a value", () => {
    const text = `<dict\txmlns = '${NS}'\n><string key ="a>b" encoding= "json">"v"</string><null key='n'/></dict>`;
    expect(
      codeOf(() => {
        checkXmlStructure(text, DEFAULT_DICT_LIMITS, true);
      }),
    ).toBeUndefined();
    expect(codeOf(decodeXml(text))).toBeUndefined();
  });

  it("refuses a root element with a million attributes, just under 16 MiB, before parsing it", () => {
    const count = Math.floor((16 * 1024 * 1024 - 200) / 16);
    const bomb = `<dict xmlns="${NS}"${attributes(count, (i) => `a${i.toString(36).padStart(6, "0")}`)}/>`;
    expect(bomb.length).toBeLessThan(16 * 1024 * 1024);
    expect(
      codeOf(() => {
        checkXmlStructure(bomb, DEFAULT_DICT_LIMITS, false);
      }),
    ).toBe("DICT_INVALID");
    expect(codeOf(decodeXml(bomb))).toBe("DICT_INVALID");
  });
});

describe("[C-XML-NS] namespace declarations per document", () => {
  it("refuses a root element with hundreds of thousands of declarations, before parsing it", () => {
    const count = 570_000;
    const declarations = Array.from({ length: count }, (_, i) => ` xmlns:p${i}="u"`).join("");
    const bomb = `<dict xmlns="${NS}"${declarations}/>`;
    expect(
      codeOf(() => {
        checkXmlStructure(bomb, DEFAULT_DICT_LIMITS, false);
      }),
    ).toBe("DICT_INVALID");
    expect(codeOf(decodeXml(bomb))).toBe("DICT_INVALID");
  });

  it("takes a declaration on every element up to the limit, and refuses one more", () => {
    const element = (i: number) => `<null key="k${i}" xmlns="${NS}"/>`;
    const document = (children: number) =>
      `<dict xmlns="${NS}">${Array.from({ length: children }, (_, i) => element(i)).join("")}</dict>`;
    expect(codeOf(decodeXml(document(MAX_XML_NAMESPACE_DECLARATIONS - 1)))).toBeUndefined();
    expect(codeOf(decodeXml(document(MAX_XML_NAMESPACE_DECLARATIONS)))).toBe("DICT_INVALID");
  });

  it("counts xmlns and xmlns:prefix, and no other name that starts with xmlns", () => {
    // One declaration on the root and one on each child: the limit exactly, with the root's
    // `xmlnsx` and `xmlns-y` (not declarations) on top.
    const children = Array.from(
      { length: MAX_XML_NAMESPACE_DECLARATIONS - 2 },
      (_, i) => `<null key="k${i}" xmlns="${NS}"/>`,
    ).join("");
    const text = (root: string) => `<dict xmlns="${NS}" ${root}>${children}</dict>`;
    const structure = (root: string) => () => {
      checkXmlStructure(text(root), DEFAULT_DICT_LIMITS, false);
    };
    expect(codeOf(structure(`xmlns:g="${NS}" xmlnsx="a" xmlns-y="b"`))).toBeUndefined();
    expect(codeOf(structure(`xmlns:g="${NS}" xmlns:h="${NS}"`))).toBe("DICT_INVALID");
  });
});
