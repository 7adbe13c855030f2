import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  DICT_FORMATS,
  decodeDict,
  encodeDict,
  isDictFormat,
  type DictFormat,
} from "../../src/codecs/dict-format.js";
import type { DictObject, DictValue } from "../../src/codecs/dict-value.js";
import type { JsonObject, JsonValue } from "../../src/codecs/json-value.js";
import {
  DEFAULT_DICT_LIMITS,
  MAX_DICT_BYTES,
  MAX_DICT_DEPTH,
  MAX_DICT_VALUES,
} from "../../src/codecs/limits.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { CodecError, ErrorCode } from "../../src/errors.js";
import {
  anyFloat,
  exactDictArbitrary,
  jsonDictArbitrary,
  type IntegerRange,
} from "./dict-arbitraries.js";
import { expectCodecError } from "./expect-codec-error.js";
import { dict, expectSameDict } from "./expect-same-dict.js";

const PROPERTY_RUNS = 300;
const FUZZ_RUNS = 400;

/** msgpack str is UTF-8, which cannot hold a lone surrogate; the other formats can. */
const carriesLoneSurrogates = (format: DictFormat): boolean => format !== "msgpack";
/** msgpack's int family is 64 bits wide; json and xml carry integers of any size. */
const integerRange = (format: DictFormat): IntegerRange =>
  format === "msgpack" ? "msgpack" : "any";

const SAMPLE: DictObject = dict(
  ["name", "Ada"],
  ["n", [1n, -2.5, null, true, 1.0, -0.0]],
  ["10", dict(["x", "y"])],
  ["2", 9007199254740993n],
  ["__proto__", dict(["", ""])],
);

const roundTrip = (value: DictObject | JsonObject, format: DictFormat): DictObject =>
  decodeDict(encodeDict(value, format), format);

describe("DICT_FORMATS and isDictFormat", () => {
  test("name exactly the three formats", () => {
    expect(DICT_FORMATS).toEqual(["json", "msgpack", "xml"]);
    for (const format of DICT_FORMATS) expect(isDictFormat(format)).toBe(true);
    for (const other of ["JSON", "bin", "", undefined, null, 1, {}, ["json"]]) {
      expect(isDictFormat(other)).toBe(false);
    }
  });
});

describe.each(DICT_FORMATS)("%s round trip", (format) => {
  test("[C-ORDER] [C-INT] [C-FLOAT] decode(encode(x)) is exactly x (property)", () => {
    fc.assert(
      fc.property(
        exactDictArbitrary({
          loneSurrogates: carriesLoneSurrogates(format),
          integers: integerRange(format),
        }),
        (value) => {
          expectSameDict(roundTrip(value, format), value);
        },
      ),
      { numRuns: PROPERTY_RUNS },
    );
  });

  test("[C-ORDER] members keep the order written, integer-like keys included, at every depth", () => {
    const value = dict(
      ["10", 1n],
      ["2", 2n],
      ["1", 3n],
      ["b", dict(["9", null], ["a", [dict(["3", true], ["0", false])]])],
    );
    const decoded = roundTrip(value, format);
    expect([...decoded.keys()]).toEqual(["10", "2", "1", "b"]);
    expectSameDict(decoded, value);
  });

  test("[C-FLOAT] every float comes back as the same double, and as a float (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), anyFloat, (a, b) => {
        const decoded = roundTrip(dict(["a", a], ["b", [b]]), format);
        const backA = decoded.get("a");
        const backB = (decoded.get("b") as DictValue[])[0];
        expect(typeof backA).toBe("number");
        expect(typeof backB).toBe("number");
        expect(Object.is(backA, a)).toBe(true);
        expect(Object.is(backB, b)).toBe(true);
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  test("[C-FLOAT] [C-INT] 1.0 stays a float, 1 an integer, -0.0 a negative zero, -0 the integer 0", () => {
    const decoded = roundTrip(
      dict(["f", 1], ["i", 1n], ["nz", -0], ["z", 0n], ["big", 2 ** 64]),
      format,
    );
    expect(decoded.get("f")).toBe(1);
    expect(decoded.get("i")).toBe(1n);
    expect(Object.is(decoded.get("nz"), -0)).toBe(true);
    expect(decoded.get("z")).toBe(0n);
    expect(decoded.get("big")).toBe(2 ** 64);
  });

  test("[C-INT] the integer 2^53 + 1 is exact (a double would round it)", () => {
    const decoded = roundTrip(dict(["n", 9007199254740993n], ["m", -9007199254740993n]), format);
    expect(decoded.get("n")).toBe(9007199254740993n);
    expect(decoded.get("m")).toBe(-9007199254740993n);
  });

  test("keys that are dangerous in JavaScript are ordinary keys", () => {
    const value = dict(
      ["__proto__", dict(["polluted", true])],
      ["constructor", dict(["prototype", dict(["polluted", true])])],
      ["prototype", 1n],
    );
    const decoded = roundTrip(value, format);
    expectSameDict(decoded, value);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

describe("[C-INT] integers beyond 64 bits", () => {
  const huge = dict(["n", 10n ** 400n], ["m", -(2n ** 64n) - 5n], ["o", 2n ** 64n]);

  test.each(["json", "xml"] as const)("%s carries them exactly", (format) => {
    expectSameDict(roundTrip(huge, format), huge);
  });

  test("msgpack refuses them with DICT_INVALID and says which formats carry them", () => {
    for (const n of [2n ** 64n, -(2n ** 63n) - 1n, 10n ** 400n]) {
      const error = expectCodecError(
        () => encodeDict(dict(["a", [n]]), "msgpack"),
        ErrorCode.DICT_INVALID,
      );
      expect(error.hint).toMatch(/json or xml/);
    }
  });

  test("msgpack carries the whole int/uint family, -2^63 .. 2^64-1", () => {
    const edges = dict(["min", -(2n ** 63n)], ["max", 2n ** 64n - 1n]);
    expectSameDict(roundTrip(edges, "msgpack"), edges);
  });
});

describe.each(DICT_FORMATS)("%s with plain objects", (format) => {
  test("encoding a plain tree is encoding toDictObject of it (property)", () => {
    fc.assert(
      fc.property(jsonDictArbitrary({ loneSurrogates: carriesLoneSurrogates(format) }), (plain) => {
        const exact = toDictObject(plain);
        expect(Buffer.from(encodeDict(plain, format))).toEqual(
          Buffer.from(encodeDict(exact, format)),
        );
        expectSameDict(roundTrip(plain, format), exact);
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  test("a safe integer is an integer; -0, fractions and larger integral numbers are floats", () => {
    const decoded = roundTrip({ i: 1, n: -0, f: 1.5, big: 2 ** 60, e: 1e300 }, format);
    expectSameDict(decoded, dict(["i", 1n], ["n", -0], ["f", 1.5], ["big", 2 ** 60], ["e", 1e300]));
  });
});

describe("encodeDict validates its input", () => {
  const notPlainJson: [string, unknown][] = [
    ["undefined", { a: undefined }],
    ["NaN", { a: Number.NaN }],
    ["Infinity", { a: Number.POSITIVE_INFINITY }],
    ["bigint", { a: 1n }],
    ["Date", { a: new Date(0) }],
    ["Map", { a: new Map() }],
    ["Uint8Array", { a: new Uint8Array(1) }],
    ["function", { a: () => 1 }],
    ["symbol", { a: Symbol("s") }],
    ["class instance", { a: new URL("https://example.com/") }],
    // eslint-disable-next-line no-sparse-arrays -- a hole is exactly what is being tested
    ["sparse array", { a: [1, , 3] }],
    ["getter", Object.defineProperty({}, "a", { get: () => 1, enumerable: true })],
    ["top-level array", [1]],
    ["top-level null", null],
  ];
  const notExact: [string, unknown][] = [
    ["undefined", new Map([["a", undefined]])],
    ["NaN", new Map([["a", Number.NaN]])],
    ["-Infinity", new Map([["a", [Number.NEGATIVE_INFINITY]]])],
    ["a non-string key", new Map([[1, 1n]])],
    ["a plain object inside", new Map([["a", { b: 1 }]])],
    ["a symbol", new Map([["a", Symbol("s")]])],
    ["a function", new Map([["a", () => 1]])],
    ["a Uint8Array", new Map([["a", new Uint8Array(1)]])],
    // eslint-disable-next-line no-sparse-arrays -- a hole is exactly what is being tested
    ["a sparse array", new Map([["a", [1n, , 3n]]])],
  ];

  test.each(DICT_FORMATS)("%s refuses plain values that are not JSON", (format) => {
    for (const [, value] of notPlainJson) {
      expectCodecError(() => encodeDict(value as JsonObject, format), ErrorCode.DICT_INVALID);
    }
  });

  test.each(DICT_FORMATS)("%s refuses exact dictionaries holding other values", (format) => {
    for (const [, value] of notExact) {
      expectCodecError(() => encodeDict(value as DictObject, format), ErrorCode.DICT_INVALID);
    }
  });

  test("a cyclic Map is refused by the depth limit, not a stack overflow", () => {
    const cyclic: DictObject = new Map();
    cyclic.set("self", cyclic);
    for (const format of DICT_FORMATS) {
      expectCodecError(() => encodeDict(cyclic, format), ErrorCode.DICT_TOO_DEEP);
    }
  });

  test("null-prototype objects are accepted", () => {
    const bare = Object.create(null) as JsonObject;
    bare["a"] = 1;
    for (const format of DICT_FORMATS) expectSameDict(roundTrip(bare, format), dict(["a", 1n]));
  });

  test("the caller's Map is read once, when encoding: later changes do not matter", () => {
    const value = dict(["a", [1n]]);
    const bytes = encodeDict(value, "msgpack");
    value.set("b", 2n);
    expectSameDict(decodeDict(bytes, "msgpack"), dict(["a", [1n]]));
  });
});

describe.each(DICT_FORMATS)("%s limits", (format) => {
  /** A dictionary whose deepest container is at `depth` (top level = 1), exact or plain. */
  function nested(depth: number, container: "object" | "array"): DictObject {
    let inner: DictValue = container === "object" ? new Map() : [];
    for (let level = depth; level > 2; level--) {
      inner = container === "object" ? dict(["k", inner]) : [inner];
    }
    return depth === 1 ? new Map() : dict(["k", inner]);
  }
  function nestedPlain(depth: number, container: "object" | "array"): JsonObject {
    let inner: JsonValue = container === "object" ? {} : [];
    for (let level = depth; level > 2; level--) {
      inner = container === "object" ? { k: inner } : [inner];
    }
    return depth === 1 ? {} : { k: inner };
  }
  const roomy = { ...DEFAULT_DICT_LIMITS, maxDepth: 1000 };

  test.each(["object", "array"] as const)(
    "[C-DEPTH] depth 64 is accepted, 65 refused, by the decoder and the encoder (%s)",
    (kind) => {
      expect(MAX_DICT_DEPTH).toBe(64);
      const atLimit = nested(MAX_DICT_DEPTH, kind);
      expectSameDict(roundTrip(atLimit, format), atLimit);
      expectSameDict(roundTrip(nestedPlain(MAX_DICT_DEPTH, kind), format), atLimit);

      const tooDeep = encodeDict(nested(MAX_DICT_DEPTH + 1, kind), format, roomy);
      expectCodecError(() => decodeDict(tooDeep, format), ErrorCode.DICT_TOO_DEEP);
      expectCodecError(
        () => encodeDict(nested(MAX_DICT_DEPTH + 1, kind), format),
        ErrorCode.DICT_TOO_DEEP,
      );
      expectCodecError(
        () => encodeDict(nestedPlain(MAX_DICT_DEPTH + 1, kind), format),
        ErrorCode.DICT_TOO_DEEP,
      );
    },
  );

  test("[C-DEPTH] a custom maxDepth applies, an empty container counts, scalars add no depth", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxDepth: 2 };
    const ok = dict(["a", dict(["b", 1n], ["c", "x"])], ["d", [1n, 2.5]]);
    expectSameDict(decodeDict(encodeDict(ok, format, limits), format, limits), ok);
    expectCodecError(
      () => decodeDict(encodeDict(dict(["a", [[]]]), format), format, limits),
      ErrorCode.DICT_TOO_DEEP,
    );
    const flat = { ...DEFAULT_DICT_LIMITS, maxDepth: 1 };
    expectSameDict(decodeDict(encodeDict(dict(["a", 1n]), format), format, flat), dict(["a", 1n]));
    expectCodecError(
      () => decodeDict(encodeDict(dict(["a", new Map()]), format), format, flat),
      ErrorCode.DICT_TOO_DEEP,
    );
    expectCodecError(() => encodeDict(dict(["a", []]), format, flat), ErrorCode.DICT_TOO_DEEP);
  });

  test("over-size input is refused with DICT_TOO_LARGE before parsing", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxBytes: 64 };
    // Garbage in every format: only a size check that runs first can produce TOO_LARGE.
    const garbage = new Uint8Array(limits.maxBytes + 1).fill(0xc1);
    expectCodecError(() => decodeDict(garbage, format, limits), ErrorCode.DICT_TOO_LARGE);
    expectCodecError(
      () => decodeDict(new Uint8Array(DEFAULT_DICT_LIMITS.maxBytes + 1), format),
      ErrorCode.DICT_TOO_LARGE,
    );
  });

  test("exactly maxBytes is accepted, one more is refused, on encode and decode", () => {
    const value = dict(["text", "x".repeat(100)]);
    const size = encodeDict(value, format).byteLength;
    const exact = { ...DEFAULT_DICT_LIMITS, maxBytes: size };
    const bytes = encodeDict(value, format, exact);
    expectSameDict(decodeDict(bytes, format, exact), value);
    const short = { ...DEFAULT_DICT_LIMITS, maxBytes: size - 1 };
    expectCodecError(() => encodeDict(value, format, short), ErrorCode.DICT_TOO_LARGE);
    expectCodecError(() => decodeDict(bytes, format, short), ErrorCode.DICT_TOO_LARGE);
  });
});

describe.each(DICT_FORMATS)("%s value count limit", (format) => {
  const limits = { ...DEFAULT_DICT_LIMITS, maxValues: 50 };
  /** Values that look like structure in some format, to show that only real values count. */
  const tricky = ['a": [1, {}], "b', "<object/>", "\\", "\u0080\u00c1", ""];
  const items: DictValue[] = [new Map(), [], "s", -1.5e-7, true, false, null, 0n, 1.0, ...tricky];

  /**
   * A dictionary of exactly `count` values: the top level, `o`, its two values and `list`
   * make 5 (the keys, colons and brackets included, count nothing), then one per item.
   */
  function dictWithValues(count: number): DictObject {
    const list = Array.from({ length: count - 5 }, (_, index) => items[index % items.length]!);
    return dict(["o", dict(['k": {[,', "v"], ["x", 1n])], ["list", list]);
  }

  test("exactly maxValues is accepted, maxValues+1 refused, on encode and decode", () => {
    const atLimit = dictWithValues(limits.maxValues);
    const bytes = encodeDict(atLimit, format, limits);
    expectSameDict(decodeDict(bytes, format, limits), atLimit);

    const over = dictWithValues(limits.maxValues + 1);
    const error = expectCodecError(
      () => encodeDict(over, format, limits),
      ErrorCode.DICT_TOO_LARGE,
    );
    expect(error.message).toContain(`more than ${limits.maxValues} values`);
    const overBytes = encodeDict(over, format);
    expectCodecError(() => decodeDict(overBytes, format, limits), ErrorCode.DICT_TOO_LARGE);
  });

  test("the top-level object counts, keys do not", () => {
    const one = { ...DEFAULT_DICT_LIMITS, maxValues: 1 };
    expectSameDict(decodeDict(encodeDict(new Map(), format), format, one), new Map());
    expectCodecError(
      () => decodeDict(encodeDict(dict(["a", null]), format), format, one),
      ErrorCode.DICT_TOO_LARGE,
    );
    const two = { ...DEFAULT_DICT_LIMITS, maxValues: 2 };
    const longKey = dict(["key ".repeat(20), new Map()]);
    expectSameDict(decodeDict(encodeDict(longKey, format, two), format, two), longKey);
  });

  test("the default limit is MAX_DICT_VALUES", () => {
    expect(DEFAULT_DICT_LIMITS.maxValues).toBe(MAX_DICT_VALUES);
    expect(MAX_DICT_VALUES).toBe(1_000_000);
  });
});

describe("one rule for every format", () => {
  const duplicates: Record<DictFormat, string> = {
    json: '{"a":1,"b":{"x":1,"x":2}}',
    // {"a": {"x": 1, "x": 2}}
    msgpack: "81a161 82a17801a17802",
    xml: '<dict xmlns="urn:gb-transfer:dict:1"><object key="a"><null key="x"/><null key="x"/></object></dict>',
  };
  const bytesOf = (format: DictFormat, text: string): Uint8Array =>
    format === "msgpack" ? Buffer.from(text.replace(/\s+/g, ""), "hex") : Buffer.from(text);

  test.each(DICT_FORMATS)("[C-DUP] %s refuses a duplicate key with DICT_INVALID", (format) => {
    expectCodecError(
      () => decodeDict(bytesOf(format, duplicates[format]), format),
      ErrorCode.DICT_INVALID,
    );
  });

  const nonFinite: Record<DictFormat, string[]> = {
    json: ['{"a":1e400}', '{"a":[-1e309]}', '{"a":NaN}', '{"a":Infinity}'],
    // float 64 NaN, float 64 +Infinity, float 32 -Infinity
    msgpack: ["81a161 cb7ff8000000000000", "81a161 cb7ff0000000000000", "81a161 caff800000"],
    xml: ["1e400", "-1E+309", "NaN", "Infinity"].map(
      (n) => `<dict xmlns="urn:gb-transfer:dict:1"><number key="a">${n}</number></dict>`,
    ),
  };

  test.each(DICT_FORMATS)(
    "[C-FINITE] %s refuses non-finite numbers with DICT_INVALID",
    (format) => {
      for (const text of nonFinite[format]) {
        expectCodecError(() => decodeDict(bytesOf(format, text), format), ErrorCode.DICT_INVALID);
      }
    },
  );

  test("[C-FINITE] no encoder writes a non-finite number", () => {
    for (const format of DICT_FORMATS) {
      for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        expectCodecError(() => encodeDict(dict(["a", n]), format), ErrorCode.DICT_INVALID);
        expectCodecError(() => encodeDict({ a: n }, format), ErrorCode.DICT_INVALID);
      }
    }
  });
});

describe("[C-LIMITS] 16 MiB of empty containers is refused quickly under the default limits", () => {
  const size = MAX_DICT_BYTES;
  const inputs: Record<DictFormat, () => Uint8Array> = {
    // {"a": array 32 of empty maps}: one byte per map, 16 million of them.
    msgpack: () => {
      const header = [0x81, 0xa1, 0x61, 0xdd];
      const count = size - header.length - 4;
      const bytes = new Uint8Array(size).fill(0x80);
      bytes.set(header);
      new DataView(bytes.buffer).setUint32(header.length, count);
      return bytes;
    },
    json: () => {
      const count = Math.floor((size - 8) / 3);
      return new TextEncoder().encode(`{"a":[${"{},".repeat(count - 1)}{}]}`);
    },
    xml: () => {
      const open = '<dict xmlns="urn:gb-transfer:dict:1"><array key="a">';
      const close = "</array></dict>";
      const count = Math.floor((size - open.length - close.length) / "<object/>".length);
      return new TextEncoder().encode(`${open}${"<object/>".repeat(count)}${close}`);
    },
  };

  test.each(["msgpack", "json", "xml"] as const)("%s", (format) => {
    const input = inputs[format]();
    expect(input.byteLength).toBeLessThanOrEqual(DEFAULT_DICT_LIMITS.maxBytes);
    const started = performance.now();
    const error = expectCodecError(() => decodeDict(input, format), ErrorCode.DICT_TOO_LARGE);
    const elapsedMs = performance.now() - started;
    expect(error.message).toContain(`more than ${MAX_DICT_VALUES} values`);
    // Each format refuses in a linear scan before building anything (about 0.1 s); xml's
    // budget is the one it had when it refused only after parsing a million elements.
    const budgetMs = format === "xml" ? 5_000 : 500;
    expect(elapsedMs).toBeLessThan(budgetMs);
  });
});

describe("a million levels of nesting is refused quickly", () => {
  const levels = 1_000_000;
  const deepInputs: Record<DictFormat, () => Uint8Array> = {
    json: () => new TextEncoder().encode(`{"a":${"[".repeat(levels)}${"]".repeat(levels)}}`),
    msgpack: () => {
      const bytes = new Uint8Array(3 + levels + 1).fill(0x91); // fixarray of one element
      bytes.set([0x81, 0xa1, 0x61]); // {"a": ...
      bytes[bytes.length - 1] = 0x90; // innermost []
      return bytes;
    },
    xml: () =>
      new TextEncoder().encode(
        `<dict xmlns="urn:gb-transfer:dict:1"><array key="a">${"<array>".repeat(levels)}` +
          `${"</array>".repeat(levels)}</array></dict>`,
      ),
  };
  test.each(DICT_FORMATS)("%s", (format) => {
    const input = deepInputs[format]();
    const started = performance.now();
    expectCodecError(() => decodeDict(input, format), ErrorCode.DICT_TOO_DEEP);
    const elapsedMs = performance.now() - started;
    const generousBudgetMs = 2_000;
    expect(elapsedMs).toBeLessThan(generousBudgetMs);
  });
});

describe.each(DICT_FORMATS)(
  "%s fuzz: only CodecError escapes, and the codec still works",
  (format) => {
    function decodeOnlyThrowsCodecError(bytes: Uint8Array): void {
      try {
        const decoded = decodeDict(bytes, format);
        // Whatever decodes must be a valid dictionary that re-encodes to the same.
        expectSameDict(roundTrip(decoded, format), decoded);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        expect([
          ErrorCode.DICT_INVALID,
          ErrorCode.DICT_TOO_DEEP,
          ErrorCode.DICT_TOO_LARGE,
        ]).toContain(error.code);
      }
      // The codec keeps no broken state behind.
      expectSameDict(roundTrip(SAMPLE, format), SAMPLE);
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    }

    test("random bytes", () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), decodeOnlyThrowsCodecError), {
        numRuns: FUZZ_RUNS,
      });
    });

    test("random mutations of valid encodings", () => {
      const mutation = fc.record({
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
        kind: fc.constantFrom("replace", "insert", "delete", "truncate"),
      });
      fc.assert(
        fc.property(
          exactDictArbitrary({
            loneSurrogates: carriesLoneSurrogates(format),
            integers: integerRange(format),
          }),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (value, mutations) => {
            let bytes = Array.from(encodeDict(value, format));
            for (const { at, byte, kind } of mutations) {
              const index = bytes.length === 0 ? 0 : at % bytes.length;
              if (kind === "replace") bytes[index] = byte;
              else if (kind === "insert") bytes.splice(index, 0, byte);
              else if (kind === "delete") bytes.splice(index, 1);
              else bytes = bytes.slice(0, index);
            }
            decodeOnlyThrowsCodecError(Uint8Array.from(bytes));
          },
        ),
        { numRuns: FUZZ_RUNS },
      );
    });
  },
);

test("xml fuzz: documents assembled from XML tokens only throw CodecError", () => {
  const tokens = [
    "<",
    ">",
    "/",
    "</",
    "/>",
    "=",
    '"',
    "'",
    " ",
    "\n",
    "dict",
    "object",
    "array",
    "string",
    "number",
    "boolean",
    "null",
    ' xmlns="urn:gb-transfer:dict:1"',
    ' key="a"',
    ' key-json="&quot;\\u0000&quot;"',
    ' encoding="json"',
    "&amp;",
    "&unknown;",
    "&#x0;",
    "&#xD;",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<!DOCTYPE d [",
    "<!ENTITY e 'x'>",
    "]",
    '<?xml version="1.0"?>',
    "<?pi?>",
    "1",
    "-0.5e+3",
    "123456789012345678901234567890",
    "true",
    "x:",
  ];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 40 }), (parts) => {
      const bytes = new TextEncoder().encode(parts.join(""));
      try {
        decodeDict(bytes, "xml");
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
      }
      expectSameDict(roundTrip(SAMPLE, "xml"), SAMPLE);
    }),
    { numRuns: FUZZ_RUNS },
  );
});
