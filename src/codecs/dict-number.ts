/**
 * Numbers as text, shared by the json and xml formats, the stored file and the screen: one
 * grammar to read them ([C-INT], [C-FLOAT], [C-FINITE]) and one way to write them.
 */

import { CodecError, ErrorCode } from "../errors.js";

/**
 * The JSON number grammar (RFC 8259 section 6), which the xml format shares. A token with
 * neither a fraction nor an exponent is an integer; any other is a float.
 */
const NUMBER_TEXT = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * Integer tokens this long or shorter (sign included) hold at most 15 digits, which a double
 * holds exactly: converting through a number is then exact and cheaper than parsing the text
 * as a bigint.
 */
const MAX_EXACT_DOUBLE_TOKEN_LENGTH = 15;

/**
 * The text of a float ([C-FLOAT]): the shortest text that reads back as the same double
 * (ECMAScript `Number::toString`), with `.0` added when that text has no `.` or exponent, so
 * that it reads back as a float and not as an integer. Negative zero is `-0.0`.
 *
 * `value` must be finite: the caller has checked it ([C-FINITE]).
 */
export function floatText(value: number): string {
  // String(-0) is "0": the sign would be lost.
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const text = String(value);
  // Number::toString writes a lower-case "e" and never "E".
  return text.includes(".") || text.includes("e") ? text : `${text}.0`;
}

/** The text of an integer ([C-INT]): its decimal digits, after `-` when negative. */
export function integerText(value: bigint): string {
  return value.toString();
}

/** The text of any dictionary number: an integer (bigint) or a float (number). */
export function numberText(value: bigint | number): string {
  return typeof value === "bigint" ? integerText(value) : floatText(value);
}

/**
 * The value of a number token already known to match the JSON number grammar: a bigint for
 * an integer token (`-0` is the integer zero), a number for a float token.
 *
 * @param isInteger - whether the token has neither a fraction nor an exponent.
 * @throws {@link CodecError} `DICT_INVALID` when a float token is beyond the double range
 *   (`1e400`), which would read as an infinity ([C-FINITE]).
 */
export function numberFromToken(token: string, isInteger: boolean): bigint | number {
  if (isInteger) {
    return token.length <= MAX_EXACT_DOUBLE_TOKEN_LENGTH ? BigInt(Number(token)) : BigInt(token);
  }
  const value = Number(token);
  if (!Number.isFinite(value)) {
    throw new CodecError(
      ErrorCode.DICT_INVALID,
      `the number ${shorten(token)} is beyond the range of a double (numbers must be finite)`,
    );
  }
  return value;
}

/**
 * The value of `text` as a whole number token (the xml format's `<number>`).
 *
 * @throws {@link CodecError} `DICT_INVALID` when `text` does not match the JSON number
 *   grammar exactly (no white space), or is a float beyond the double range.
 */
export function parseNumberText(text: string): bigint | number {
  if (!NUMBER_TEXT.test(text)) {
    throw new CodecError(
      ErrorCode.DICT_INVALID,
      `${JSON.stringify(shorten(text))} is not a number in the JSON grammar`,
    );
  }
  return numberFromToken(text, !/[.eE]/.test(text));
}

/** Most characters of a refused token quoted in a message. */
const MAX_QUOTED_TOKEN_CHARS = 40;

function shorten(token: string): string {
  return token.length <= MAX_QUOTED_TOKEN_CHARS
    ? token
    : `${token.slice(0, MAX_QUOTED_TOKEN_CHARS)}… (${token.length} characters)`;
}
