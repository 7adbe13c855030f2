/**
 * A dictionary's printable form: its first lines, laid out as the stored file lays it out
 * ([V-DICT]), cut into tokens that a screen can colour. It is small whatever the
 * dictionary (a bounded number of lines, long strings cut, huge integers shown by their
 * size), so that it can be made next to the decoder, off the event loop, and handed over
 * instead of the dictionary itself.
 */

import { writeDictJsonLines, type DictJsonStyle } from "./dict-json-text.js";
import { numberText } from "./dict-number.js";
import type { DictValue } from "./dict-value.js";

/** Lines of a dictionary kept before it is cut with a note. */
export const MAX_PRINTABLE_DICT_LINES = 200;

/** Characters of one string or key kept before it is cut. */
export const MAX_PRINTABLE_STRING_CHARS = 500;

/**
 * Integers with more bits than this (about 500 digits) are shown by their size: writing
 * out the digits of a huge integer costs time quadratic-ish in its length.
 */
export const MAX_PRINTABLE_INTEGER_BITS = 1661;
const DIGITS_PER_BIT = Math.log10(2);

/** What a token is, for a screen to colour; `plain` is layout and punctuation. */
export type PrintableTokenKind = "plain" | "key" | "string" | "number" | "literal";

/** A piece of a line. Its text is not yet safe for a terminal: strings are the peer's. */
export interface PrintableToken {
  readonly kind: PrintableTokenKind;
  readonly text: string;
}

/** The first lines of a dictionary, as tokens, and how many lines were left out. */
export interface PrintableDict {
  readonly lines: readonly (readonly PrintableToken[])[];
  /** Lines left out after {@link lines}: 0 when the dictionary is shown whole. */
  readonly more: number;
  /** True when counting stopped: more than {@link more} lines were left out. */
  readonly moreIsLowerBound: boolean;
}

// Marks around a token in a laid-out line. JSON.stringify escapes every C0 control, and
// numbers and literals hold none, so neither can occur inside a token.
const TOKEN_START = "\u0001";
const TOKEN_END = "\u0002";
const KIND_BY_MARK: Readonly<Record<string, PrintableTokenKind>> = {
  k: "key",
  s: "string",
  n: "number",
  l: "literal",
};

const MARKED_STYLE: DictJsonStyle = {
  key: (key) => `${TOKEN_START}k${quote(key)}${TOKEN_END}`,
  string: (text) => `${TOKEN_START}s${quote(text)}${TOKEN_END}`,
  number: (number) => `${TOKEN_START}n${printableNumber(number)}${TOKEN_END}`,
  literal: (text) => `${TOKEN_START}l${text}${TOKEN_END}`,
};

/**
 * The first `maxLines` lines of `value` laid out as `JSON.stringify(value, null, 2)`
 * lays out a plain object (members in the order written, integers as their digits,
 * floats with `.0`), as tokens. Lines past them are counted, up to ten times
 * `maxLines`, so that a note can say how much was left out without laying out a
 * 16 MiB dictionary.
 */
export function printableDict(
  value: DictValue,
  maxLines: number = MAX_PRINTABLE_DICT_LINES,
): PrintableDict {
  const lines: PrintableToken[][] = [];
  let total = 0;
  const countLimit = maxLines * 10;
  writeDictJsonLines(
    value,
    (line) => {
      total++;
      if (lines.length < maxLines) lines.push(tokens(line));
      // Stop counting once the note can only say "more".
      return total <= countLimit;
    },
    MARKED_STYLE,
  );
  if (total <= maxLines) return { lines, more: 0, moreIsLowerBound: false };
  if (total > countLimit) {
    return { lines, more: countLimit - maxLines, moreIsLowerBound: true };
  }
  return { lines, more: total - maxLines, moreIsLowerBound: false };
}

/** The plain text of a printable dictionary's lines, tokens joined, without a note. */
export function printableLinesText(printable: PrintableDict): string[] {
  return printable.lines.map((line) => line.map((token) => token.text).join(""));
}

function tokens(line: string): PrintableToken[] {
  const result: PrintableToken[] = [];
  let position = 0;
  while (position < line.length) {
    const start = line.indexOf(TOKEN_START, position);
    if (start < 0) {
      result.push({ kind: "plain", text: line.slice(position) });
      break;
    }
    if (start > position) result.push({ kind: "plain", text: line.slice(position, start) });
    const end = line.indexOf(TOKEN_END, start);
    const kind = KIND_BY_MARK[line.charAt(start + 1)] ?? "plain";
    result.push({ kind, text: line.slice(start + 2, end) });
    position = end + 1;
  }
  return result;
}

function printableNumber(value: bigint | number): string {
  if (typeof value === "bigint") {
    const bits = (value < 0n ? -value : value).toString(2).length;
    if (bits > MAX_PRINTABLE_INTEGER_BITS) {
      return `${value < 0n ? "-" : ""}… (an integer of about ${Math.ceil(bits * DIGITS_PER_BIT)} digits)`;
    }
  }
  return numberText(value);
}

function quote(text: string): string {
  if (text.length <= MAX_PRINTABLE_STRING_CHARS) return JSON.stringify(text);
  const cut = Array.from(text.slice(0, MAX_PRINTABLE_STRING_CHARS + 1))
    .slice(0, MAX_PRINTABLE_STRING_CHARS)
    .join("");
  return `${JSON.stringify(cut).slice(0, -1)}…" (${text.length} characters)`;
}
