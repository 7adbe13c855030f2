import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  JsonNumberToken,
  parseControlJson,
  parseControlText,
  type ControlValue,
} from "../../src/protocol/control-json.js";
import { ProtocolError } from "../../src/errors.js";
import { protocolErrorCode } from "../support/protocol-error-code.js";

/** What JSON.parse would build from the same text. */
function toPlain(value: ControlValue): unknown {
  if (value instanceof JsonNumberToken) return value.value;
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Map) {
    // Object.fromEntries defines own properties, as JSON.parse does (even "__proto__").
    return Object.fromEntries([...value].map(([name, member]) => [name, toPlain(member)]));
  }
  return value;
}

const parse = (text: string): ControlValue => parseControlJson(Buffer.from(text, "utf8"));
const code = (text: string | Uint8Array): string | undefined =>
  protocolErrorCode(() =>
    parseControlJson(typeof text === "string" ? Buffer.from(text, "utf8") : text),
  );

/** The result of JSON.parse, or the marker when it throws. */
const REFUSED = Symbol("refused");
function jsonParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return REFUSED;
  }
}

describe("[J-TEXT] parseControlJson: RFC 8259, exactly", () => {
  it("reads every kind of value, keeping number tokens", () => {
    const value = parse(' {"a" : [1, -0, 1.5e3, true, false, null, "x"], "b": {}, "c": []} ');
    expect(toPlain(value)).toEqual(
      JSON.parse('{"a":[1,-0,1.5e3,true,false,null,"x"],"b":{},"c":[]}'),
    );
    if (!(value instanceof Map)) throw new Error("expected an object");
    const numbers = value.get("a");
    if (!Array.isArray(numbers)) throw new Error("expected an array");
    expect(numbers.slice(0, 3).map((n) => (n as JsonNumberToken).token)).toEqual([
      "1",
      "-0",
      "1.5e3",
    ]);
  });

  it("decodes every escape, and keeps an escaped lone surrogate as JSON.parse does", () => {
    const text = String.raw`"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\ude00 \ud800"`;
    expect(parse(text)).toBe(JSON.parse(text));
  });

  it("keeps __proto__ an ordinary member name", () => {
    const value = parse('{"__proto__":{"polluted":1}}');
    expect(value).toBeInstanceOf(Map);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("[J-BOM] refuses a byte-order mark before the text", () => {
    expect(code(Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from("{}")]))).toBe("MALFORMED_MESSAGE");
    expect(code("\ufeff{}")).toBe("MALFORMED_MESSAGE");
  });

  it.each([
    ["at the top level", '{"a":1,"a":1}'],
    ["with different values", '{"a":1,"b":2,"a":"x"}'],
    ["in a nested object", '{"meta":{"name":"x","name":"y"}}'],
    ["in an object inside an array", '{"x":[{"k":1,"k":2}]}'],
    ["spelled with an escape", '{"a":1,"\\u0061":2}'],
  ])("[J-DUP] refuses a duplicate member name %s", (_label, text) => {
    expect(code(text)).toBe("MALFORMED_MESSAGE");
  });

  it("accepts the same name in different objects", () => {
    expect(code('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}')).toBeUndefined();
  });

  it.each([
    ["empty text", ""],
    ["white space only", " \n"],
    ["a trailing comma in an object", '{"a":1,}'],
    ["a trailing comma in an array", "[1,]"],
    ["a leading zero", "01"],
    ["a plus sign", "+1"],
    ["a bare fraction", ".5"],
    ["a dot without digits", "1."],
    ["an exponent without digits", "1e"],
    ["hexadecimal", "0x10"],
    ["NaN", "NaN"],
    ["Infinity", "-Infinity"],
    ["single quotes", "{'a':1}"],
    ["an unquoted name", "{a:1}"],
    ["a comment", "{} // x"],
    ["two values", "{} {}"],
    ["trailing garbage", "{}x"],
    ["an unescaped tab in a string", '"a\tb"'],
    ["an unescaped line feed in a string", '"a\nb"'],
    ["an unescaped NUL in a string", '"a\u0000b"'],
    ["a bad escape", '"\\x41"'],
    ["a short \\u escape", '"\\u12"'],
    ["a \\u escape with a non-hex digit", '"\\u12g4"'],
    ["an unterminated string", '"abc'],
    ["an unterminated object", '{"a":1'],
    ["an unclosed array", "[[1]"],
    ["a missing colon", '{"a" 1}'],
    ["a missing value", '{"a":}'],
    ["TRUE", "TRUE"],
    ["a form feed as white space", "\f{}"],
    ["a no-break space as white space", "\u00a0{}"],
  ])("refuses %s", (_label, text) => {
    expect(code(text)).toBe("MALFORMED_MESSAGE");
    // Every refusal here is one JSON.parse makes too, but for the BOM and duplicates.
    expect(jsonParse(text)).toBe(REFUSED);
  });

  it.each([
    ["a lone continuation byte", [0x22, 0x80, 0x22]],
    ["an overlong '/'", [0x22, 0xc0, 0xaf, 0x22]],
    ["an encoded surrogate", [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ["a truncated sequence", [0x22, 0xe2, 0x82, 0x22]],
    ["a code point past U+10FFFF", [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
  ])("refuses invalid UTF-8: %s", (_label, bytes) => {
    expect(code(Uint8Array.from(bytes))).toBe("MALFORMED_MESSAGE");
  });

  it("refuses more than 16 KiB before decoding it", () => {
    const text = `"${"a".repeat(16 * 1024 - 2)}"`;
    expect(code(text)).toBeUndefined();
    expect(code(`${text} `)).toBe("MALFORMED_MESSAGE");
  });

  it("reads the deepest nesting 16 KiB allows without exhausting the stack", () => {
    const depth = 8 * 1024;
    const text = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    let value = parse(text);
    for (let level = 1; level < depth; level++) {
      if (!Array.isArray(value) || value.length !== 1) throw new Error(`level ${level}`);
      value = value[0] as ControlValue;
    }
    expect(value).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// Fuzzing: arbitrary bytes, JSON texts written every way RFC 8259 allows, and mutations.

const whiteSpace = fc
  .array(fc.constantFrom(" ", "\t", "\n", "\r"), { maxLength: 2 })
  .map((chars) => chars.join(""));

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "/": "\\/",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function unicodeEscape(unit: number, upper: boolean): string {
  const hex = unit.toString(16).padStart(4, "0");
  return `\\u${upper ? hex.toUpperCase() : hex}`;
}

/** `value` as a JSON string literal, each character escaped or not as `choices` says. */
function stringLiteral(value: string, choices: readonly number[]): string {
  let text = '"';
  let index = 0;
  for (const char of value) {
    const choice = choices[index++ % Math.max(choices.length, 1)] ?? 0;
    const unit = char.charCodeAt(0);
    const lone = char.length === 1 && unit >= 0xd800 && unit <= 0xdfff;
    const mustEscape = lone || unit < 0x20 || char === '"' || char === "\\";
    const short = SHORT_ESCAPES[char];
    if (!mustEscape && choice % 3 === 0) {
      text += char;
    } else if (short !== undefined && choice % 2 === 0) {
      text += short;
    } else {
      for (let i = 0; i < char.length; i++) text += unicodeEscape(char.charCodeAt(i), choice > 4);
    }
  }
  return `${text}"`;
}

const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
const jsonString = fc
  .tuple(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 8 }),
      fc.string({ unit: anyUnit, maxLength: 8 }),
    ),
    fc.array(fc.nat({ max: 6 }), { maxLength: 8 }),
  )
  .map(([value, choices]) => stringLiteral(value, choices));

const digits = (min: number) =>
  fc
    .array(fc.constantFrom(...Array.from("0123456789")), { minLength: min, maxLength: 4 })
    .map((d) => d.join(""));
const jsonNumber = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.constant("0"),
      fc.tuple(fc.constantFrom(...Array.from("123456789")), digits(0)).map(([a, b]) => a + b),
    ),
    fc.option(digits(1), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), digits(1)), {
      nil: undefined,
    }),
  )
  .map(
    ([negative, integer, fraction, exponent]) =>
      `${negative ? "-" : ""}${integer}${fraction === undefined ? "" : `.${fraction}`}${
        exponent === undefined ? "" : exponent.join("")
      }`,
  );

const jsonText = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("true", "false", "null"),
    jsonNumber,
    jsonString,
    tie("array"),
    tie("object"),
  ),
  array: fc
    .array(fc.tuple(whiteSpace, tie("value"), whiteSpace), { maxLength: 4 })
    .chain((items) =>
      whiteSpace.map((space) =>
        items.length === 0 ? `[${space}]` : `[${items.map((i) => i.join("")).join(",")}]`,
      ),
    ),
  object: fc
    .uniqueArray(
      fc.tuple(
        fc.string({ unit: anyUnit, maxLength: 4 }),
        fc.array(fc.nat({ max: 6 }), { maxLength: 4 }),
        whiteSpace,
        whiteSpace,
        tie("value"),
        whiteSpace,
      ),
      { selector: ([name]) => name, maxLength: 4 },
    )
    .map((members) =>
      members.length === 0
        ? "{}"
        : `{${members
            .map(
              ([name, choices, before, after, value, end]) =>
                `${before}${stringLiteral(name, choices)}${after}:${value}${end}`,
            )
            .join(",")}}`,
    ),
}));

function expectSound(bytes: Uint8Array): void {
  let value: ControlValue;
  try {
    value = parseControlJson(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe("MALFORMED_MESSAGE");
    return;
  }
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  expect(jsonParse(text)).not.toBe(REFUSED);
  expect(toPlain(value)).toEqual(JSON.parse(text));
}

describe("[J-TEXT] parseControlJson, fuzzed", () => {
  it("only MALFORMED_MESSAGE escapes on arbitrary bytes, and what it accepts JSON.parse reads the same", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc
            .array(fc.constantFrom(...Array.from('{}[]:,"\\ 0123456789.eE+-truefalsnu')), {
              maxLength: 40,
            })
            .map((chars) => Buffer.from(chars.join(""))),
        ),
        expectSound,
      ),
      { numRuns: 3000 },
    );
  });

  it("accepts every JSON text without duplicate names, however it is written, as JSON.parse reads it", () => {
    fc.assert(
      fc.property(jsonText.value, whiteSpace, whiteSpace, (value, before, after) => {
        const text = `${before}${value}${after}`;
        expect(toPlain(parseControlJson(Buffer.from(text, "utf8")))).toEqual(JSON.parse(text));
      }),
      { numRuns: 1000 },
    );
  });

  it("stays sound on JSON texts with a byte inserted, removed or changed", () => {
    fc.assert(
      fc.property(
        jsonText.value,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom("insert", "remove", "replace"),
        (value, at, byte, how) => {
          const bytes = [...Buffer.from(value, "utf8")];
          const index = at % (bytes.length + 1);
          if (how === "insert") bytes.splice(index, 0, byte);
          else bytes.splice(index, 1, ...(how === "replace" ? [byte] : []));
          expectSound(Uint8Array.from(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// The shortcut for texts written as JSON.stringify writes them.

/** `value` with every number's token and every object's member order made visible. */
function exactly(value: ControlValue): unknown {
  if (value instanceof JsonNumberToken) return { token: value.token };
  if (Array.isArray(value)) return value.map(exactly);
  if (value instanceof Map) return { members: [...value].map(([name, v]) => [name, exactly(v)]) };
  return value;
}

/** What `read` makes of a text: its exact form, or the code it throws. */
function outcome(read: () => ControlValue): unknown {
  try {
    return exactly(read());
  } catch (error) {
    return { refused: (error as ProtocolError).code };
  }
}

/** parseControlJson (shortcut first) and the parser alone agree on `text`. */
function expectSameAsParser(text: string): void {
  expect(outcome(() => parseControlJson(Buffer.from(text, "utf8")))).toEqual(
    outcome(() => parseControlText(text)),
  );
}

describe("[J-TEXT] parseControlJson reads a text written as JSON.stringify writes it as the parser does", () => {
  it.each([
    [
      "an integer-like member name after another (JSON.parse lists it first)",
      '{"b":1,"1":2,"0":3}',
    ],
    ["a duplicate member name", '{"a":1,"a":1}'],
    ["a duplicate member name written back as one", '{"a":{},"a":{}}'],
    ["minus zero", "[-0]"],
    ["a number with a fraction of zero", "[1.0]"],
    ["an exponent", "[1e0,1E2,15e-1]"],
    ["an integer past 2^53", "[9007199254740993]"],
    ["an integer past 10^21", "[1000000000000000000000]"],
    ["__proto__", '{"__proto__":{"x":1}}'],
    ["an escaped lone surrogate", String.raw`["\ud800","\udfff\ud800"]`],
    ["escapes JSON.stringify writes otherwise", String.raw`["\/","\u0041","\u00e9"]`],
    ["control characters JSON.stringify escapes", String.raw`["\u0001\b\f\n\r\t"]`],
    ["a string at the top", '"x"'],
    ["a number at the top", "42"],
  ])("%s", (_label, text) => {
    expectSameAsParser(text);
  });

  it("keeps member names in the order written", () => {
    const value = parse('{"b":1,"1":2}');
    expect(value instanceof Map && [...value.keys()]).toEqual(["b", "1"]);
  });

  it("reads nesting deeper than the shortcut converts", () => {
    for (const depth of [63, 64, 65, 66, 200]) {
      expectSameAsParser(`${"[".repeat(depth)}1${"]".repeat(depth)}`);
      expectSameAsParser(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
    }
  });

  it("agrees with the parser on JSON texts written every way, and on the same values as JSON.stringify writes them", () => {
    fc.assert(
      fc.property(jsonText.value, (text) => {
        expectSameAsParser(text);
        expectSameAsParser(JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: 1000 },
    );
  });

  it("agrees with the parser on any value JSON.stringify writes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectSameAsParser(JSON.stringify(value));
      }),
      { numRuns: 1000 },
    );
  });
});
