import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { floatText, integerText, parseNumberText } from "../../src/codecs/dict-number.js";
import { ErrorCode } from "../../src/errors.js";
import { anyInteger } from "./dict-arbitraries.js";
import { expectCodecError } from "./expect-codec-error.js";

describe("floatText [C-FLOAT]", () => {
  test.each([
    [1, "1.0"],
    [0, "0.0"],
    [-0, "-0.0"],
    [-1, "-1.0"],
    [1.5, "1.5"],
    [0.1, "0.1"],
    [1e21, "1e+21"],
    [1e-7, "1e-7"],
    [2 ** 53, "9007199254740992.0"],
    [123456789012345680000, "123456789012345680000.0"],
    [5e-324, "5e-324"],
    [Number.MAX_VALUE, "1.7976931348623157e+308"],
  ])("%d is written %s", (value, text) => {
    expect(floatText(value)).toBe(text);
  });

  test("is the shortest text that reads back as the same double, and as a float (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = floatText(value);
        expect(text).toMatch(/[.eE]/);
        expect(Object.is(Number(text), value)).toBe(true);
        expect(Object.is(parseNumberText(text), value)).toBe(true);
        // Shortest: the text is String(n), plus ".0" when that has neither "." nor "e".
        const shortest = Object.is(value, -0) ? "-0" : String(value);
        expect(text === shortest || text === `${shortest}.0`).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("integerText and parseNumberText [C-INT]", () => {
  test("an integer token is read exactly, at any size (property)", () => {
    fc.assert(
      fc.property(anyInteger("any"), (value) => {
        expect(parseNumberText(integerText(value))).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  test("-0 is the integer zero; a fraction or an exponent makes a float", () => {
    expect(parseNumberText("-0")).toBe(0n);
    expect(parseNumberText("10")).toBe(10n);
    expect(parseNumberText("1.0")).toBe(1);
    expect(parseNumberText("1e0")).toBe(1);
    expect(parseNumberText("1E2")).toBe(100);
    expect(Object.is(parseNumberText("-0.0"), -0)).toBe(true);
    expect(parseNumberText("123456789012345678901")).toBe(123456789012345678901n);
  });

  test.each(["", " 1", "1 ", "+1", "01", "1.", ".5", "0x1", "1e", "NaN", "Infinity", "1_000"])(
    "refuses %j",
    (text) => {
      expectCodecError(() => parseNumberText(text), ErrorCode.DICT_INVALID);
    },
  );

  test("[C-FINITE] refuses a float beyond the double range", () => {
    expectCodecError(() => parseNumberText("1e400"), ErrorCode.DICT_INVALID);
    expectCodecError(() => parseNumberText("-1.8e308"), ErrorCode.DICT_INVALID);
  });
});
