/**
 * The JSON text parser of the `json` format and of dictionaries typed in by users: RFC 8259
 * JSON whose top level is an object, read into the exact representation.
 *
 * `JSON.parse` cannot be used: it builds plain objects (which move keys such as "10" to the
 * front), reads every number as a double (which rounds integers past 2^53 and cannot tell
 * `1` from `1.0`), and keeps the last of duplicate keys. This parser keeps members in the
 * order written ([C-ORDER]), reads integers as bigints and floats as numbers ([C-INT],
 * [C-FLOAT]), and refuses duplicate keys ([C-DUP]) and numbers beyond the double range
 * ([C-FINITE]). Depth and value count are checked as each value opens, before it is built
 * ([C-DEPTH], [C-LIMITS]).
 *
 * It reads the text with `charCodeAt` and slices strings and numbers out of it, allocating
 * nothing per character.
 */

import type { DictObject, DictValue } from "./dict-value.js";
import { DictTextError, textPosition } from "./dict-text-error.js";
import { checkDictDepth, checkDictValues, type DictLimits } from "./limits.js";

const QUOTATION_MARK = 0x22; // "
const REVERSE_SOLIDUS = 0x5c; // \
const SOLIDUS = 0x2f; // /
const BEGIN_ARRAY = 0x5b; // [
const END_ARRAY = 0x5d; // ]
const BEGIN_OBJECT = 0x7b; // {
const END_OBJECT = 0x7d; // }
const NAME_SEPARATOR = 0x3a; // :
const VALUE_SEPARATOR = 0x2c; // ,
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_ZERO = 0x30;
const DIGIT_ONE = 0x31;
const DIGIT_NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_T = 0x74;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_B = 0x62;
const LOWER_R = 0x72;
const LOWER_U = 0x75;
const UPPER_A = 0x41;
const UPPER_F = 0x46;
const LOWER_A = 0x61;
const FIRST_NON_CONTROL = 0x20;
const BYTE_ORDER_MARK = 0xfeff;
const HEX_DIGITS_PER_ESCAPE = 4;
const HEX_RADIX = 16;
const DECIMAL_RADIX = 10;
/** Digits a double holds exactly, so that an integer this short is read without a bigint parse. */
const MAX_EXACT_DOUBLE_DIGITS = 15;

/** What a dictionary's text may hold beyond RFC 8259's grammar. */
export interface JsonTextOptions {
  /**
   * Whether a leading byte-order mark (U+FEFF) is skipped. The wire format refuses one
   * ([C-BOM]: RFC 8259 section 8.1, senders MUST NOT add one); a file a user typed may have
   * one (editors on Windows write it).
   */
  readonly allowByteOrderMark: boolean;
}

/**
 * Parses JSON text whose top level is an object.
 *
 * @throws {@link DictTextError} (`DICT_INVALID`) with the position of the first error: bad
 *   syntax, a top level that is not an object, a duplicate key, a number beyond the double
 *   range, a byte-order mark where it is not allowed.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when a container opens deeper than
 *   `limits.maxDepth`, `DICT_TOO_LARGE` when a value beyond `limits.maxValues` starts.
 */
export function parseJsonText(
  text: string,
  limits: Pick<DictLimits, "maxDepth" | "maxValues">,
  options: JsonTextOptions,
): DictObject {
  // Every value takes at least one character, so only text longer than the value limit
  // can hold too many values: that is counted first, building nothing, so that 16 MiB of
  // "{}," is refused without building a million maps.
  if (text.length > limits.maxValues) checkStructure(text, limits);
  const parser = new JsonParser(text, limits);
  if (text.charCodeAt(0) === BYTE_ORDER_MARK) {
    if (!options.allowByteOrderMark) {
      throw parser.error("a byte-order mark is not allowed before JSON text on the wire");
    }
    parser.position = 1;
  }
  return parser.parseDocument();
}

/**
 * The value of `text` when it is exactly one JSON string literal: no white space before or
 * after it ([C-XML-JSONSTR]).
 *
 * @throws {@link DictTextError} (`DICT_INVALID`) otherwise.
 */
export function parseJsonStringLiteral(text: string): string {
  const parser = new JsonParser(text, { maxDepth: 0, maxValues: 0 });
  if (text.charCodeAt(0) !== QUOTATION_MARK) throw parser.error("expected a JSON string literal");
  const value = parser.parseString();
  if (parser.position !== text.length) {
    throw parser.error("unexpected text after the JSON string literal");
  }
  return value;
}

class JsonParser {
  position = 0;
  private values = 0;
  private readonly end: number;

  constructor(
    private readonly text: string,
    private readonly limits: Pick<DictLimits, "maxDepth" | "maxValues">,
  ) {
    this.end = text.length;
  }

  error(message: string, at = this.position): DictTextError {
    return new DictTextError(message, textPosition(this.text, at));
  }

  parseDocument(): DictObject {
    this.skipWhiteSpace();
    if (this.text.charCodeAt(this.position) !== BEGIN_OBJECT) {
      throw this.error(
        this.position === this.end ? "the text is empty" : "the top level must be an object",
      );
    }
    const value = this.parseObject(1);
    this.skipWhiteSpace();
    if (this.position !== this.end) throw this.error("unexpected text after the top-level object");
    return value;
  }

  /** Counts one more value; the limit is checked before the value is built. */
  private countValue(): void {
    this.values++;
    checkDictValues(this.values, this.limits);
  }

  private skipWhiteSpace(): void {
    const text = this.text;
    let position = this.position;
    for (;;) {
      const code = text.charCodeAt(position);
      if (code !== SPACE && code !== LINE_FEED && code !== CARRIAGE_RETURN && code !== TAB) break;
      position++;
    }
    this.position = position;
  }

  /** @param depth - the depth of the container the value is in. */
  private parseValue(depth: number): DictValue {
    const code = this.text.charCodeAt(this.position);
    switch (code) {
      case BEGIN_OBJECT:
        return this.parseObject(depth + 1);
      case BEGIN_ARRAY:
        return this.parseArray(depth + 1);
      case QUOTATION_MARK:
        this.countValue();
        return this.parseString();
      case LOWER_T:
        this.countValue();
        return this.parseLiteral("true", true);
      case LOWER_F:
        this.countValue();
        return this.parseLiteral("false", false);
      case LOWER_N:
        this.countValue();
        return this.parseLiteral("null", null);
      default:
        if (code === MINUS || (code >= DIGIT_ZERO && code <= DIGIT_NINE)) {
          this.countValue();
          return this.parseNumber();
        }
        throw this.error(this.position === this.end ? "the text ends early" : "expected a value");
    }
  }

  /** [C-DEPTH] the depth is checked as the container opens, before anything is built. */
  private parseObject(depth: number): DictObject {
    checkDictDepth(depth, this.limits);
    this.countValue();
    this.position++;
    const object: DictObject = new Map();
    this.skipWhiteSpace();
    if (this.text.charCodeAt(this.position) === END_OBJECT) {
      this.position++;
      return object;
    }
    for (;;) {
      const keyAt = this.position;
      if (this.text.charCodeAt(keyAt) !== QUOTATION_MARK) {
        throw this.error(keyAt === this.end ? "the text ends early" : "expected a key (a string)");
      }
      const key = this.parseString();
      this.skipWhiteSpace();
      if (this.text.charCodeAt(this.position) !== NAME_SEPARATOR) {
        throw this.error("expected ':' after a key");
      }
      this.position++;
      this.skipWhiteSpace();
      const value = this.parseValue(depth);
      const size = object.size;
      object.set(key, value);
      // [C-DUP] a key already present does not grow the map: one lookup, not two.
      if (object.size === size) throw this.error(`duplicate key ${JSON.stringify(key)}`, keyAt);
      this.skipWhiteSpace();
      const code = this.text.charCodeAt(this.position);
      this.position++;
      if (code === END_OBJECT) return object;
      if (code !== VALUE_SEPARATOR) {
        throw this.error("expected ',' or '}' after a member", this.position - 1);
      }
      this.skipWhiteSpace();
    }
  }

  private parseArray(depth: number): DictValue[] {
    checkDictDepth(depth, this.limits);
    this.countValue();
    this.position++;
    const array: DictValue[] = [];
    this.skipWhiteSpace();
    if (this.text.charCodeAt(this.position) === END_ARRAY) {
      this.position++;
      return array;
    }
    for (;;) {
      array.push(this.parseValue(depth));
      this.skipWhiteSpace();
      const code = this.text.charCodeAt(this.position);
      this.position++;
      if (code === END_ARRAY) return array;
      if (code !== VALUE_SEPARATOR) {
        throw this.error("expected ',' or ']' after an array element", this.position - 1);
      }
      this.skipWhiteSpace();
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.position)) throw this.error("expected a value");
    this.position += word.length;
    return value;
  }

  /** Reads the string literal at the current position (its opening quotation mark). */
  parseString(): string {
    const text = this.text;
    const end = this.end;
    let chunkStart = ++this.position;
    let position = chunkStart;
    let value = "";
    while (position < end) {
      const code = text.charCodeAt(position);
      if (code === QUOTATION_MARK) {
        this.position = position + 1;
        return value + text.slice(chunkStart, position);
      }
      if (code === REVERSE_SOLIDUS) {
        value += text.slice(chunkStart, position);
        value += this.readEscape(position);
        position += text.charCodeAt(position + 1) === LOWER_U ? 2 + HEX_DIGITS_PER_ESCAPE : 2;
        chunkStart = position;
      } else if (code < FIRST_NON_CONTROL) {
        throw this.error("a control character must be escaped in a string", position);
      } else {
        position++;
      }
    }
    throw this.error("the string is not closed", end);
  }

  /** The character an escape sequence at `at` (its backslash) stands for. */
  private readEscape(at: number): string {
    const code = this.text.charCodeAt(at + 1);
    switch (code) {
      case QUOTATION_MARK:
        return '"';
      case REVERSE_SOLIDUS:
        return "\\";
      case SOLIDUS:
        return "/";
      case LOWER_B:
        return "\b";
      case LOWER_F:
        return "\f";
      case LOWER_N:
        return "\n";
      case LOWER_R:
        return "\r";
      case LOWER_T:
        return "\t";
      case LOWER_U: {
        let unit = 0;
        for (let index = at + 2; index < at + 2 + HEX_DIGITS_PER_ESCAPE; index++) {
          const digit = hexDigitValue(this.text.charCodeAt(index));
          if (digit < 0) throw this.error("\\u must be followed by four hexadecimal digits", at);
          unit = unit * HEX_RADIX + digit;
        }
        // A lone surrogate is valid JSON and kept as it is.
        return String.fromCharCode(unit);
      }
      default:
        throw this.error("unknown escape sequence", at);
    }
  }

  /**
   * Reads a number token: an integer (no fraction, no exponent) as a bigint ([C-INT]; `-0`
   * is the integer zero), any other as a float ([C-FLOAT]), refusing a float beyond the
   * double range ([C-FINITE]).
   */
  private parseNumber(): bigint | number {
    const text = this.text;
    const start = this.position;
    let position = start;
    const negative = text.charCodeAt(position) === MINUS;
    if (negative) position++;
    let code = text.charCodeAt(position);
    // Small integers are accumulated as they are read, which avoids parsing the token again.
    let magnitude = 0;
    let digits = 0;
    if (code === DIGIT_ZERO) {
      position++;
      digits = 1;
    } else if (code >= DIGIT_ONE && code <= DIGIT_NINE) {
      do {
        magnitude = magnitude * DECIMAL_RADIX + (code - DIGIT_ZERO);
        digits++;
        code = text.charCodeAt(++position);
      } while (code >= DIGIT_ZERO && code <= DIGIT_NINE);
    } else {
      throw this.error("expected a digit", position);
    }
    code = text.charCodeAt(position);
    let isInteger = true;
    if (code === DOT) {
      isInteger = false;
      position = this.skipDigits(position + 1);
      code = text.charCodeAt(position);
    }
    if (code === LOWER_E || code === UPPER_E) {
      isInteger = false;
      position++;
      code = text.charCodeAt(position);
      if (code === PLUS || code === MINUS) position++;
      position = this.skipDigits(position);
    }
    this.position = position;
    if (isInteger) {
      if (digits <= MAX_EXACT_DOUBLE_DIGITS) return BigInt(negative ? -magnitude : magnitude);
      return BigInt(text.slice(start, position));
    }
    const value = Number(text.slice(start, position));
    if (!Number.isFinite(value)) {
      throw this.error(
        "the number is beyond the range of a double (numbers must be finite)",
        start,
      );
    }
    return value;
  }

  /** Skips one or more digits from `position`; returns the position after them. */
  private skipDigits(position: number): number {
    const text = this.text;
    let code = text.charCodeAt(position);
    if (code < DIGIT_ZERO || code > DIGIT_NINE) throw this.error("expected a digit", position);
    do code = text.charCodeAt(++position);
    while (code >= DIGIT_ZERO && code <= DIGIT_NINE);
    return position;
  }
}

/**
 * Refuses text that holds more values than the limit, or nests deeper, without parsing it
 * (the limit met first in the text wins, as in the parser). One pass with constant memory,
 * outside string literals: `[` and `{` count one value and one level each; every string
 * counts one value and every `:` takes one back (it follows a key, and keys are not
 * values); every run of other characters but white space and `,]}` (a number, `true`,
 * `false`, `null`) counts one value.
 *
 * On valid JSON the count is exact, and the running count never exceeds the final one (a
 * key is counted before its `:`, but a value always follows it), so refusing as soon as it
 * goes over never refuses a dictionary within the limit. On invalid JSON the count may be
 * off, but then the parser refuses the text anyway.
 */
function checkStructure(text: string, limits: Pick<DictLimits, "maxDepth" | "maxValues">): void {
  let values = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let inBareToken = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (escaped) escaped = false;
      else if (code === REVERSE_SOLIDUS) escaped = true;
      else if (code === QUOTATION_MARK) inString = false;
      continue;
    }
    if (code === QUOTATION_MARK) {
      inString = true;
      inBareToken = false;
      values++;
      checkDictValues(values, limits);
    } else if (code === BEGIN_OBJECT || code === BEGIN_ARRAY) {
      inBareToken = false;
      depth++;
      checkDictDepth(depth, limits);
      values++;
      checkDictValues(values, limits);
    } else if (code === NAME_SEPARATOR) {
      inBareToken = false;
      values--;
    } else if (code === END_OBJECT || code === END_ARRAY) {
      inBareToken = false;
      depth--;
    } else if (
      code === VALUE_SEPARATOR ||
      code === SPACE ||
      code === TAB ||
      code === LINE_FEED ||
      code === CARRIAGE_RETURN
    ) {
      inBareToken = false;
    } else if (!inBareToken) {
      inBareToken = true;
      values++;
      checkDictValues(values, limits);
    }
  }
}

/** The value of a hexadecimal digit, or -1. */
function hexDigitValue(code: number): number {
  if (code >= DIGIT_ZERO && code <= DIGIT_NINE) return code - DIGIT_ZERO;
  if (code >= UPPER_A && code <= UPPER_F) return code - UPPER_A + DECIMAL_RADIX;
  if (code >= LOWER_A && code <= LOWER_F) return code - LOWER_A + DECIMAL_RADIX;
  return -1;
}
