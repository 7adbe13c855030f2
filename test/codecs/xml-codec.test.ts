import { describe, expect, test } from "vitest";
import type { DictObject, DictValue } from "../../src/codecs/dict-value.js";
import { DEFAULT_DICT_LIMITS } from "../../src/codecs/limits.js";
import { decodeXmlDict } from "../../src/codecs/xml-decoder.js";
import { encodeXmlDict } from "../../src/codecs/xml-encoder.js";
import { DICT_XML_NAMESPACE } from "../../src/codecs/xml-vocabulary.js";
import { ErrorCode } from "../../src/errors.js";
import { expectCodecError } from "./expect-codec-error.js";
import { dict, expectSameDict } from "./expect-same-dict.js";

const utf8 = new TextEncoder();
const encodeText = (value: DictObject) => new TextDecoder().decode(encodeXmlDict(value));
/** A one-member dictionary. */
const one = (key: string, value: DictValue): DictObject => dict([key, value]);
const decode = (xml: string) => decodeXmlDict(utf8.encode(xml), DEFAULT_DICT_LIMITS);
/** Wraps children in the root element. */
const doc = (children: string) => `<dict xmlns="${DICT_XML_NAMESPACE}">${children}</dict>`;

const EXAMPLE = dict(
  ["name", "Ada & Co"],
  ["age", 36n],
  ["pi", 3.14159],
  ["ok", true],
  ["nothing", null],
  ["tags", ["a", -1.5e-7]],
  ["nested", dict(["", "empty key"])],
);

describe("encodeXmlDict", () => {
  test("writes the documented schema, pretty-printed", () => {
    expect(encodeText(EXAMPLE)).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<dict xmlns="urn:gb-transfer:dict:1">',
        '  <string key="name">Ada &amp; Co</string>',
        '  <number key="age">36</number>',
        '  <number key="pi">3.14159</number>',
        '  <boolean key="ok">true</boolean>',
        '  <null key="nothing"/>',
        '  <array key="tags">',
        "    <string>a</string>",
        "    <number>-1.5e-7</number>",
        "  </array>",
        '  <object key="nested">',
        '    <string key="">empty key</string>',
        "  </object>",
        "</dict>",
        "",
      ].join("\n"),
    );
  });

  test("writes empty containers and strings as empty elements", () => {
    expect(encodeText(new Map())).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<dict xmlns="urn:gb-transfer:dict:1"/>\n',
    );
    expect(encodeText(dict(["a", []], ["o", new Map()], ["s", ""]))).toContain(
      '  <array key="a"/>\n  <object key="o"/>\n  <string key="s"/>\n',
    );
  });

  test("[C-FLOAT] [C-INT] floats in their shortest form with .0 added, integers as digits", () => {
    const floats = [1e300, -0.5, 5e-324, -0, 0, 1, 123456789012345680000];
    expect(encodeText(one("a", floats))).toContain(
      "<number>1e+300</number>\n    <number>-0.5</number>\n    <number>5e-324</number>\n" +
        "    <number>-0.0</number>\n    <number>0.0</number>\n    <number>1.0</number>\n" +
        "    <number>123456789012345680000.0</number>",
    );
    expect(encodeText(one("a", [0n, -7n, 10n ** 30n]))).toContain(
      "<number>0</number>\n    <number>-7</number>\n    <number>1000000000000000000000000000000</number>",
    );
  });

  test("[C-ORDER] writes members in the order written", () => {
    expect(encodeText(dict(["10", 1n], ["2", 2n]))).toContain(
      '  <number key="10">1</number>\n  <number key="2">2</number>\n',
    );
  });

  test("escapes text: & < > and CR; keeps tab, LF and spaces as they are", () => {
    expect(encodeText(one("a", "<b> & \r\n\t  x  "))).toContain(
      '<string key="a">&lt;b&gt; &amp; &#xD;\n\t  x  </string>',
    );
  });

  test('escapes attributes: & < " and tab, LF, CR as references', () => {
    expect(encodeText(one('a"b<c&d\te\nf\rg>h', 1n))).toContain(
      '<number key="a&quot;b&lt;c&amp;d&#x9;e&#xA;f&#xD;g>h">1</number>',
    );
  });

  test('strings XML cannot carry use encoding="json", keys use key-json', () => {
    expect(encodeText(one("bell\u0007", "nul\u0000 \ud800 \ufffe \uffff <&>"))).toContain(
      '<string key-json="&quot;bell\\u0007&quot;" encoding="json">' +
        '"nul\\u0000 \\ud800 \\ufffe \\uffff &lt;&amp;&gt;"</string>',
    );
  });

  test("characters XML 1.0 allows are written as they are", () => {
    const allowed = "\u007f\u0085\u00a0\u2028\ufeff\ud83d\ude00";
    expect(encodeText(one("a", allowed))).toContain(`<string key="a">${allowed}</string>`);
  });
});

describe("decodeXmlDict", () => {
  test("reads the schema example from the protocol document", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<dict xmlns="urn:gb-transfer:dict:1">
  <string key="name">Ada &amp; Co</string>
  <number key="age">36</number>
  <number key="pi">3.14159</number>
  <boolean key="ok">true</boolean>
  <null key="nothing"/>
  <array key="tags"><string>a</string><number>-1.5e-7</number></array>
  <object key="nested"><string key="">empty key</string></object>
</dict>`;
    expectSameDict(decode(xml), EXAMPLE);
  });

  test("round-trips the example", () => {
    expectSameDict(decodeXmlDict(encodeXmlDict(EXAMPLE), DEFAULT_DICT_LIMITS), EXAMPLE);
  });

  test("numbers stay numbers, booleans and null survive, strings stay strings", () => {
    const decoded = decode(
      doc(
        '<number key="n">1e+300</number><number key="m">-0</number><number key="e">2E-3</number>' +
          '<string key="s">36</string><string key="t">true</string><boolean key="b">false</boolean>' +
          '<null key="z"/><null key="y"></null>',
      ),
    );
    expectSameDict(
      decoded,
      dict(
        ["n", 1e300],
        ["m", 0n],
        ["e", 0.002],
        ["s", "36"],
        ["t", "true"],
        ["b", false],
        ["z", null],
        ["y", null],
      ),
    );
  });

  test("[C-INT] [C-FLOAT] a number without fraction or exponent is an integer, of any size", () => {
    const decoded = decode(
      doc(
        '<number key="i">9007199254740993</number><number key="f">1.0</number>' +
          '<number key="nz">-0.0</number><number key="z">-0</number><number key="e">1e0</number>' +
          `<number key="big">-${"7".repeat(500)}</number>`,
      ),
    );
    expectSameDict(
      decoded,
      dict(
        ["i", 9007199254740993n],
        ["f", 1],
        ["nz", -0],
        ["z", 0n],
        ["e", 1],
        ["big", -BigInt("7".repeat(500))],
      ),
    );
  });

  test("CR LF inside strings and keys survives", () => {
    const value = one("k\r\nk\rk\nk", "v\r\nv\rv\nv");
    expectSameDict(decodeXmlDict(encodeXmlDict(value), DEFAULT_DICT_LIMITS), value);
    // A literal CR LF in the document is an XML line end and reads as LF.
    expectSameDict(decode(doc('<string key="a">x\r\ny</string>')), one("a", "x\ny"));
  });

  test("whitespace inside <string> is kept exactly; between elements it is ignored", () => {
    expectSameDict(
      decode(doc('\n  <string key="a">  lead\n\ttrail  </string>\n\t<string key="b"> </string>\n')),
      dict(["a", "  lead\n\ttrail  "], ["b", " "]),
    );
  });

  test("CDATA inside <string> is text", () => {
    expectSameDict(
      decode(doc('<string key="a">x<![CDATA[<b>&amp;</b>]]>y</string>')),
      one("a", "x<b>&amp;</b>y"),
    );
  });

  test("comments are ignored everywhere", () => {
    expectSameDict(
      decode(
        `<!--before--><dict xmlns="${DICT_XML_NAMESPACE}"><!--c--><string key="a">x<!--c-->y</string><array key="b"><!--c--></array></dict><!--after-->`,
      ),
      dict(["a", "xy"], ["b", []]),
    );
  });

  test("character references are resolved", () => {
    expectSameDict(
      decode(doc('<string key="&#x41;&#66;">&#x1F600;&lt;&gt;&amp;&quot;&apos;</string>')),
      one("AB", "\ud83d\ude00<>&\"'"),
    );
  });

  test('encoding="json" strings and key-json keys', () => {
    expectSameDict(
      decode(
        doc('<string key-json="&quot;\\u0000&quot;" encoding="json">"\\ud800\\u0001"</string>'),
      ),
      one("\u0000", "\ud800\u0001"),
    );
  });

  test("keeps key order and array order", () => {
    const decoded = decode(
      doc(
        '<number key="z">1</number><number key="a">2</number><array key="m"><number>3</number><number>1</number></array>',
      ),
    );
    expect([...decoded.keys()]).toEqual(["z", "a", "m"]);
    expect(decoded.get("m")).toEqual([3n, 1n]);
  });

  test("any namespace prefix works, a BOM and no XML declaration are fine", () => {
    expectSameDict(
      decode(`<d:dict xmlns:d="${DICT_XML_NAMESPACE}"><d:number key="a">1</d:number></d:dict>`),
      one("a", 1n),
    );
    expectSameDict(
      decodeXmlDict(
        Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8.encode(doc(""))]),
        DEFAULT_DICT_LIMITS,
      ),
      new Map(),
    );
  });

  test("keeps __proto__ as an own key and never pollutes", () => {
    const decoded = decode(
      doc('<object key="__proto__"><boolean key="polluted">true</boolean></object>'),
    );
    expectSameDict(decoded, one("__proto__", one("polluted", true)));
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  describe("refuses entities and DTDs", () => {
    test("a DOCTYPE with internal entities (billion laughs)", () => {
      const laughs = `<?xml version="1.0"?>
<!DOCTYPE dict [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
${doc('<string key="a">&lol3;</string>')}`;
      expectCodecError(() => decode(laughs), ErrorCode.DICT_INVALID);
    });

    test("an external entity", () => {
      const external = `<!DOCTYPE dict [<!ENTITY x SYSTEM "file:///etc/passwd">]>${doc('<string key="a">&x;</string>')}`;
      expectCodecError(() => decode(external), ErrorCode.DICT_INVALID);
    });

    test("a DOCTYPE without any entity", () => {
      expectCodecError(() => decode(`<!DOCTYPE dict>${doc("")}`), ErrorCode.DICT_INVALID);
    });

    test("an undeclared entity, including names on Object.prototype", () => {
      expectCodecError(
        () => decode(doc('<string key="a">&unknown;</string>')),
        ErrorCode.DICT_INVALID,
      );
      expectCodecError(
        () => decode(doc('<string key="a">&constructor;</string>')),
        ErrorCode.DICT_INVALID,
      );
      expectCodecError(
        () => decode(doc('<string key="&unknown;">x</string>')),
        ErrorCode.DICT_INVALID,
      );
    });
  });

  test.each([
    ["a processing instruction", `<?php echo 1; ?>${doc("")}`],
    ["a processing instruction inside", doc("<?pi x?>")],
    ["XML version 1.1", `<?xml version="1.1"?>${doc("")}`],
    ["another declared encoding", `<?xml version="1.0" encoding="ISO-8859-1"?>${doc("")}`],
    ["no root element", "<!--only a comment-->"],
    ["a root that is not dict", `<object xmlns="${DICT_XML_NAMESPACE}"/>`],
    ["a root without the namespace", "<dict/>"],
    ["a root in another namespace", '<dict xmlns="urn:other"/>'],
    [
      "a child without the namespace",
      `<dict xmlns="${DICT_XML_NAMESPACE}"><string xmlns="" key="a">x</string></dict>`,
    ],
    ["a key on the root", `<dict xmlns="${DICT_XML_NAMESPACE}" key="a"/>`],
    ["an unknown element", doc('<integer key="a">1</integer>')],
    ["a nested dict", doc('<dict key="a"/>')],
    ["an unknown attribute", doc('<string key="a" lang="en">x</string>')],
    ["an attribute in another namespace", doc('<string key="a" xml:space="preserve">x</string>')],
    ["a missing key", doc("<string>x</string>")],
    ["a duplicate key", doc('<string key="a">x</string><number key="a">1</number>')],
    ["a duplicate __proto__ key", doc('<null key="__proto__"/><null key="__proto__"/>')],
    ["key and key-json together", doc('<string key="a" key-json="&quot;a&quot;">x</string>')],
    ["key-json that is not a JSON string", doc('<string key-json="1">x</string>')],
    ["a key on an array child", doc('<array key="a"><string key="b">x</string></array>')],
    [
      "key-json on an array child",
      doc('<array key="a"><string key-json="&quot;b&quot;">x</string></array>'),
    ],
    ["text directly in dict", doc('oops<string key="a">x</string>')],
    ["text in an array", doc('<array key="a">1</array>')],
    ["CDATA text in an object", doc('<object key="a"><![CDATA[x]]></object>')],
    ["an element inside a string", doc('<string key="a"><string>x</string></string>')],
    ["an element inside null", doc('<null key="a"><null/></null>')],
    ["text inside null", doc('<null key="a">null</null>')],
    ["whitespace inside null", doc('<null key="a"> </null>')],
    ["an empty number", doc('<number key="a"/>')],
    ["a number with spaces", doc('<number key="a"> 1</number>')],
    ["a hexadecimal number", doc('<number key="a">0x10</number>')],
    ["a number with a leading +", doc('<number key="a">+1</number>')],
    ["a number with a leading zero", doc('<number key="a">01</number>')],
    ["a number with a bare dot", doc('<number key="a">1.</number>')],
    ["NaN", doc('<number key="a">NaN</number>')],
    ["Infinity", doc('<number key="a">Infinity</number>')],
    ["a number beyond the double range", doc('<number key="a">1e400</number>')],
    ["a boolean in capitals", doc('<boolean key="a">TRUE</boolean>')],
    ["an empty boolean", doc('<boolean key="a"/>')],
    ["encoding on a number", doc('<number key="a" encoding="json">1</number>')],
    ["an unknown encoding", doc('<string key="a" encoding="base64">eA==</string>')],
    [
      "an encoding=json string that is not a JSON string",
      doc('<string key="a" encoding="json">x</string>'),
    ],
    ["an encoding=json string holding a number", doc('<string key="a" encoding="json">1</string>')],
    [
      "[C-XML-JSONSTR] white space before an encoding=json literal",
      doc('<string key="a" encoding="json"> "x"</string>'),
    ],
    [
      "[C-XML-JSONSTR] a line end after an encoding=json literal",
      doc('<string key="a" encoding="json">"x"\n</string>'),
    ],
    [
      "[C-XML-JSONSTR] two literals in one encoding=json string",
      doc('<string key="a" encoding="json">"x""y"</string>'),
    ],
    ["[C-XML-JSONSTR] white space around key-json", doc('<null key-json=" &quot;a&quot;"/>')],
    ["[C-XML-JSONSTR] a tab after key-json", doc('<null key-json="&quot;a&quot;&#x9;"/>')],
    [
      "[C-DUP] a duplicate key spelt with key and key-json",
      doc('<null key="a"/><null key-json="&quot;a&quot;"/>'),
    ],
    [
      "[C-FINITE] a negative number beyond the double range",
      doc('<number key="a">-1.8e308</number>'),
    ],
    ["text after the root", `${doc("")}x`],
    ["a second root", `${doc("")}${doc("")}`],
    ["an unclosed element", `<dict xmlns="${DICT_XML_NAMESPACE}"><string key="a">`],
    ["a mismatched close tag", doc('<string key="a">x</number>')],
    ["a character XML 1.0 forbids", doc('<string key="a">\u0001</string>')],
    ["a reference to a character XML 1.0 forbids", doc('<string key="a">&#x1;</string>')],
  ])("refuses %s with DICT_INVALID", (_name, xml) => {
    expectCodecError(() => decode(xml), ErrorCode.DICT_INVALID);
  });

  test("refuses malformed UTF-8 with DICT_INVALID", () => {
    const bytes = Uint8Array.from([
      ...utf8.encode(doc('<string key="a">')),
      0xc3,
      0x28,
      ...utf8.encode("</string>"),
    ]);
    expectCodecError(() => decodeXmlDict(bytes, DEFAULT_DICT_LIMITS), ErrorCode.DICT_INVALID);
  });

  test("keeps the parser error as cause", () => {
    const error = expectCodecError(() => decode("<dict"), ErrorCode.DICT_INVALID);
    expect(error.cause).toBeInstanceOf(Error);
  });

  test("depth counts objects and arrays, not scalars, and refuses as the element opens", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxDepth: 2 };
    expectSameDict(
      decodeXmlDict(utf8.encode(doc('<array key="a"><number>1</number></array>')), limits),
      one("a", [1n]),
    );
    // Still unclosed: the depth error must come before the XML is found to be truncated.
    expectCodecError(
      () =>
        decodeXmlDict(
          utf8.encode(`<dict xmlns="${DICT_XML_NAMESPACE}"><array key="a"><object>`),
          limits,
        ),
      ErrorCode.DICT_TOO_DEEP,
    );
  });

  test("every element is one value, keys and comments are not, refused as it opens", () => {
    const xml = doc(
      '<array key="a"><!-- <null/> --><null/><object/></array>' +
        '<string key-json="&quot;s&quot;">x</string>',
    );
    // dict, array, null, object, string = 5 values.
    expectSameDict(
      decodeXmlDict(utf8.encode(xml), { ...DEFAULT_DICT_LIMITS, maxValues: 5 }),
      dict(["a", [null, new Map()]], ["s", "x"]),
    );
    expectCodecError(
      () => decodeXmlDict(utf8.encode(xml), { ...DEFAULT_DICT_LIMITS, maxValues: 4 }),
      ErrorCode.DICT_TOO_LARGE,
    );
    // Still unclosed: the count error must come before the XML is found to be truncated.
    expectCodecError(
      () =>
        decodeXmlDict(
          utf8.encode(`<dict xmlns="${DICT_XML_NAMESPACE}"><array key="a"><null/><null/>`),
          { ...DEFAULT_DICT_LIMITS, maxValues: 3 },
        ),
      ErrorCode.DICT_TOO_LARGE,
    );
  });
});
