import type { TextPosition } from "../../codecs/dict-text-error.js";
import { CodecError, ErrorCode, type GbErrorOptions } from "../../errors.js";

/**
 * A dictionary input (a file the user named, or standard input) whose text is not a valid
 * dictionary: not JSON, a duplicate key, a top level that is not an object. It says where,
 * with the line itself, so that a program can show the line and a caret under the column.
 */
export class DictInputError extends CodecError {
  /** The input as it was named: a path, or `-` for standard input. */
  readonly input: string;
  /** Where in the text the problem was found. */
  readonly position: TextPosition;
  /** The text of that line, without its line ending (cut when very long). */
  readonly lineText: string;

  constructor(
    input: string,
    message: string,
    where: { readonly position: TextPosition; readonly lineText: string },
    options: GbErrorOptions = {},
  ) {
    super(ErrorCode.DICT_INVALID, message, options);
    this.input = input;
    this.position = where.position;
    this.lineText = where.lineText;
  }
}
