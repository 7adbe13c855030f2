/**
 * A dictionary text that is not valid, with where: so that a program can show the user the
 * line and a caret under the column, as compilers do.
 */

import { CodecError, ErrorCode } from "../errors.js";

const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = 0xfeff;
const FIRST_HIGH_SURROGATE = 0xd800;
const LAST_HIGH_SURROGATE = 0xdbff;
const FIRST_LOW_SURROGATE = 0xdc00;
const LAST_LOW_SURROGATE = 0xdfff;

/** A place in a text. */
export interface TextPosition {
  /** The line, from 1. A line ends at LF, at CR LF, or at a CR on its own. */
  readonly line: number;
  /**
   * The column, from 1, counted in characters (Unicode code points) from the start of the
   * line; a byte-order mark at the start of the text is not counted.
   */
  readonly column: number;
  /** The offset from the start of the text, from 0, in UTF-16 code units (a string index). */
  readonly offset: number;
}

/**
 * A `DICT_INVALID` {@link CodecError} found at a known place in a dictionary's text: a
 * syntax error, a duplicate key ([C-DUP]), a number beyond the double range ([C-FINITE]).
 */
export class DictTextError extends CodecError {
  /** Where in the text the problem was found. */
  readonly position: TextPosition;
  /** What is wrong, without the place (the message adds the line and column). */
  readonly problem: string;

  constructor(problem: string, position: TextPosition, options?: { readonly cause?: unknown }) {
    super(
      ErrorCode.DICT_INVALID,
      `${problem} (line ${position.line}, column ${position.column})`,
      options,
    );
    this.position = position;
    this.problem = problem;
  }
}

/**
 * The line and column of `offset` in `text`. Linear in `offset`: it is meant for the one
 * error a parse ends with, not for every token.
 */
export function textPosition(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = text.charCodeAt(0) === BYTE_ORDER_MARK ? 1 : 0;
  const end = Math.min(offset, text.length);
  for (let index = lineStart; index < end; index++) {
    const code = text.charCodeAt(index);
    if (
      code === LINE_FEED ||
      (code === CARRIAGE_RETURN && text.charCodeAt(index + 1) !== LINE_FEED)
    ) {
      line++;
      lineStart = index + 1;
    }
  }
  let column = 1;
  for (let index = lineStart; index < end; index++) {
    // The low half of a surrogate pair is the same character as the high half before it.
    const code = text.charCodeAt(index);
    const previous = text.charCodeAt(index - 1);
    const secondHalf =
      code >= FIRST_LOW_SURROGATE &&
      code <= LAST_LOW_SURROGATE &&
      index > lineStart &&
      previous >= FIRST_HIGH_SURROGATE &&
      previous <= LAST_HIGH_SURROGATE;
    if (!secondHalf) column++;
  }
  return { line, column, offset };
}
