import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  DICT_FORMATS,
  decodeDict,
  encodeDict,
  isDictFormat,
  type DictFormat,
} from "../../src/codecs/dict-format.js";
import type { JsonObject, JsonValue } from "../../src/codecs/json-value.js";
import {
  DEFAULT_DICT_LIMITS,
  MAX_DICT_BYTES,
  MAX_DICT_DEPTH,
  MAX_DICT_VALUES,
} from "../../src/codecs/limits.js";
import { CodecError, ErrorCode } from "../../src/errors.js";
import { jsonDictArbitrary } from "./dict-arbitraries.js";
import { expectCodecError } from "./expect-codec-error.js";
import { expectSameDict } from "./expect-same-dict.js";

const PROPERTY_RUNS = 300;
const FUZZ_RUNS = 400;

/** msgpack str is UTF-8, which cannot hold a lone surrogate; the other formats can. */
const carriesLoneSurrogates = (format: DictFormat): boolean => format !== "msgpack";

const SAMPLE: JsonObject = JSON.parse(
  '{"name":"Ada","n":[1,-2.5,null,true],"__proto__":{"x":"y"},"nested":{"":""}}',
);

let prototypeNames: string[] = [];
beforeAll(() => {
  prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
});
afterEach(() => {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
  expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
});

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
}

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
  test("decode(encode(x)) equals x for arbitrary dictionaries, without pollution", () => {
    fc.assert(
      fc.property(jsonDictArbitrary({ loneSurrogates: carriesLoneSurrogates(format) }), (dict) => {
        const decoded = decodeDict(encodeDict(dict, format), format);
        expectSameDict(decoded, dict);
        expectNoPollution();
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  test("keys that are dangerous in JavaScript stay ordinary own keys", () => {
    const dict: JsonObject = JSON.parse(
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1}',
    );
    const decoded = decodeDict(encodeDict(dict, format), format);
    expect(Object.keys(decoded)).toEqual(["__proto__", "constructor", "prototype"]);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(decoded, "__proto__")?.value).toEqual({
      polluted: true,
    });
    expectNoPollution();
  });

  test("-0 is encoded exactly as 0", () => {
    const negative = encodeDict({ zero: -0, list: [-0] }, format);
    const positive = encodeDict({ zero: 0, list: [0] }, format);
    expect(negative).toEqual(positive);
    const decoded = decodeDict(negative, format);
    expect(Object.is(decoded["zero"], 0)).toBe(true);
  });
});

describe("encodeDict validates its input", () => {
  const notJson: [string, unknown][] = [
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
  test.each(DICT_FORMATS)("%s refuses values that are not JSON", (format) => {
    for (const [, value] of notJson) {
      expectCodecError(() => encodeDict(value as JsonObject, format), ErrorCode.DICT_INVALID);
    }
  });

  test("null-prototype objects are accepted and come back as plain objects", () => {
    const bare = Object.create(null) as JsonObject;
    bare["a"] = 1;
    for (const format of DICT_FORMATS) {
      const decoded = decodeDict(encodeDict(bare, format), format);
      expectSameDict(decoded, { a: 1 });
    }
  });
});

describe.each(DICT_FORMATS)("%s limits", (format) => {
  /** A dictionary whose deepest container is at `depth` (top level = 1). */
  function nested(depth: number, container: "object" | "array"): JsonObject {
    let inner: JsonValue = container === "object" ? {} : [];
    for (let level = depth; level > 2; level--) {
      inner = container === "object" ? { k: inner } : [inner];
    }
    return depth === 1 ? {} : { k: inner };
  }
  const roomy = { ...DEFAULT_DICT_LIMITS, maxDepth: 1000 };

  test.each(["object", "array"] as const)(
    "depth maxDepth is accepted, maxDepth+1 refused (%s)",
    (kind) => {
      const atLimit = nested(MAX_DICT_DEPTH, kind);
      expectSameDict(decodeDict(encodeDict(atLimit, format), format), atLimit);

      const tooDeep = encodeDict(nested(MAX_DICT_DEPTH + 1, kind), format, roomy);
      expectCodecError(() => decodeDict(tooDeep, format), ErrorCode.DICT_TOO_DEEP);
      expectCodecError(
        () => encodeDict(nested(MAX_DICT_DEPTH + 1, kind), format),
        ErrorCode.DICT_TOO_DEEP,
      );
    },
  );

  test("a custom maxDepth applies, an empty container counts, scalars add no depth", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxDepth: 2 };
    const ok: JsonObject = { a: { b: 1, c: "x" }, d: [1, 2] };
    expectSameDict(decodeDict(encodeDict(ok, format, limits), format, limits), ok);
    expectCodecError(
      () => decodeDict(encodeDict({ a: [[]] }, format), format, limits),
      ErrorCode.DICT_TOO_DEEP,
    );
    const flat = { ...DEFAULT_DICT_LIMITS, maxDepth: 1 };
    expect(decodeDict(encodeDict({ a: 1 }, format), format, flat)).toEqual({ a: 1 });
    expectCodecError(
      () => decodeDict(encodeDict({ a: {} }, format), format, flat),
      ErrorCode.DICT_TOO_DEEP,
    );
  });

  test("over-size input is refused with DICT_TOO_LARGE before parsing", () => {
    const limits = { ...DEFAULT_DICT_LIMITS, maxBytes: 64, maxDepth: MAX_DICT_DEPTH };
    // Garbage in every format: only a size check that runs first can produce TOO_LARGE.
    const garbage = new Uint8Array(limits.maxBytes + 1).fill(0xc1);
    expectCodecError(() => decodeDict(garbage, format, limits), ErrorCode.DICT_TOO_LARGE);
    expectCodecError(
      () => decodeDict(new Uint8Array(DEFAULT_DICT_LIMITS.maxBytes + 1), format),
      ErrorCode.DICT_TOO_LARGE,
    );
  });

  test("exactly maxBytes is accepted, one more is refused, on encode and decode", () => {
    const dict: JsonObject = { text: "x".repeat(100) };
    const size = encodeDict(dict, format).byteLength;
    const exact = { ...DEFAULT_DICT_LIMITS, maxBytes: size, maxDepth: MAX_DICT_DEPTH };
    const bytes = encodeDict(dict, format, exact);
    expectSameDict(decodeDict(bytes, format, exact), dict);
    const short = { ...DEFAULT_DICT_LIMITS, maxBytes: size - 1, maxDepth: MAX_DICT_DEPTH };
    expectCodecError(() => encodeDict(dict, format, short), ErrorCode.DICT_TOO_LARGE);
    expectCodecError(() => decodeDict(bytes, format, short), ErrorCode.DICT_TOO_LARGE);
  });
});

describe.each(DICT_FORMATS)("%s value count limit", (format) => {
  const limits = { ...DEFAULT_DICT_LIMITS, maxValues: 50 };
  /** Values that look like structure in some format, to show that only real values count. */
  const tricky = ['a": [1, {}], "b', "<object/>", "\\", "\u0080\u00c1", ""];
  const items: JsonValue[] = [{}, [], "s", -1.5e-7, true, false, null, 0, ...tricky];

  /**
   * A dictionary of exactly `count` values: the top level, `o`, its two values and `list`
   * make 5 (the keys, colons and brackets included, count nothing), then one per item.
   */
  function dictWithValues(count: number): JsonObject {
    const list = Array.from({ length: count - 5 }, (_, index) => items[index % items.length]);
    return { o: { 'k": {[,': "v", x: 1 }, list } as JsonObject;
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
    expectSameDict(decodeDict(encodeDict({}, format), format, one), {});
    expectCodecError(
      () => decodeDict(encodeDict({ a: null }, format), format, one),
      ErrorCode.DICT_TOO_LARGE,
    );
    const two = { ...DEFAULT_DICT_LIMITS, maxValues: 2 };
    const longKey = { ["key ".repeat(20)]: {} };
    expectSameDict(decodeDict(encodeDict(longKey, format, two), format, two), longKey);
  });

  test("the default limit is MAX_DICT_VALUES", () => {
    expect(DEFAULT_DICT_LIMITS.maxValues).toBe(MAX_DICT_VALUES);
    expect(MAX_DICT_VALUES).toBe(1_000_000);
  });
});

describe("16 MiB of empty containers is refused quickly under the default limits", () => {
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
    // msgpack and json refuse in a linear scan before building anything (about 0.1 s). xml
    // refuses as the element over the limit opens, after parsing a million elements (about
    // 1.3 s, as long as a dictionary just within the limit takes), so its budget is looser.
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
        // Whatever decodes must be a valid dictionary that re-encodes.
        expectSameDict(decodeDict(encodeDict(decoded, format), format), decoded);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        expect([
          ErrorCode.DICT_INVALID,
          ErrorCode.DICT_TOO_DEEP,
          ErrorCode.DICT_TOO_LARGE,
        ]).toContain(error.code);
      }
      // The codec keeps no broken state behind.
      expectSameDict(decodeDict(encodeDict(SAMPLE, format), format), SAMPLE);
      expectNoPollution();
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
          jsonDictArbitrary({ loneSurrogates: carriesLoneSurrogates(format) }),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (dict, mutations) => {
            let bytes = Array.from(encodeDict(dict, format));
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
      expectSameDict(decodeDict(encodeDict(SAMPLE, "xml"), "xml"), SAMPLE);
    }),
    { numRuns: FUZZ_RUNS },
  );
});
