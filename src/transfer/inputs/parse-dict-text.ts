import { parseDictJson } from "../../codecs/json-codec.js";
import { DictTextError } from "../../codecs/dict-text-error.js";
import type { DictObject } from "../../codecs/dict-value.js";
import { DEFAULT_DICT_LIMITS, type DictLimits } from "../../codecs/limits.js";
import { DictInputError } from "./dict-input-error.js";

/** Longest line kept in a {@link DictInputError}: enough for a caret, bounded for a minified file. */
const MAX_LINE_TEXT_CHARS = 1024;

/**
 * Parses the JSON text of a dictionary input (a file the user named, or standard input)
 * into a dictionary, exactly as written ([C-ORDER], [C-INT], [C-FLOAT]); a leading
 * byte-order mark is accepted (editors on Windows write one). Every dictionary input is
 * parsed here and nowhere else.
 *
 * @param input the input as it was named, for messages.
 * @throws {DictInputError} DICT_INVALID, with the line and column, when `text` is not a
 *   valid dictionary (not JSON, a duplicate key, a top level that is not an object).
 * @throws {CodecError} DICT_TOO_DEEP / DICT_TOO_LARGE when it is over `limits`.
 */
export function parseDictText(
  text: string,
  input: string,
  limits: DictLimits = DEFAULT_DICT_LIMITS,
): DictObject {
  try {
    return parseDictJson(text, limits);
  } catch (error) {
    if (!(error instanceof DictTextError)) throw error;
    const where = `${input}:${error.position.line}:${error.position.column}`;
    throw new DictInputError(
      input,
      `${where}: not a valid dictionary: ${error.problem}`,
      { position: error.position, lineText: lineAt(text, error.position.offset) },
      { cause: error },
    );
  }
}

/** The line of `text` holding `offset`, without its line ending, cut around `offset` when long. */
function lineAt(text: string, offset: number): string {
  const before = text.lastIndexOf("\n", offset - 1);
  let start = before + 1;
  if (text.charCodeAt(start) === 0xfeff) start++;
  let end = text.indexOf("\n", offset);
  if (end === -1) end = text.length;
  if (text.charCodeAt(end - 1) === 0x0d) end--;
  const line = text.slice(start, end);
  return line.length <= MAX_LINE_TEXT_CHARS ? line : line.slice(0, MAX_LINE_TEXT_CHARS);
}
