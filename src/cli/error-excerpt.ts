import { DictInputError } from "../transfer/inputs/dict-input-error.js";
import { escapeTerminalLine } from "./terminal-text.js";

/** Characters of a long line shown on each side of the column, so the caret stays on screen. */
const EXCERPT_CONTEXT_CHARS = 60;

/**
 * The lines that show where a text input went wrong, as compilers do: the line, with its
 * number, and a caret under the column. None for other errors.
 *
 * ```
 *   2 |   "b": nope}
 *     |        ^
 * ```
 */
export function errorExcerpt(error: unknown): string[] {
  if (!(error instanceof DictInputError)) return [];
  const { line, column } = error.position;
  // Columns count code points; escaping (a tab or a control shown as \uXXXX) moves the
  // caret by what it adds before the column.
  const characters = Array.from(error.lineText);
  const from = Math.max(0, column - 1 - EXCERPT_CONTEXT_CHARS);
  const to = Math.min(characters.length, column - 1 + EXCERPT_CONTEXT_CHARS);
  const before = escapeTerminalLine(characters.slice(from, column - 1).join(""));
  const after = escapeTerminalLine(characters.slice(column - 1, to).join(""));
  const lead = from > 0 ? "…" : "";
  const tail = to < characters.length ? "…" : "";
  const number = String(line);
  const gutter = " ".repeat(number.length);
  return [
    `  ${number} | ${lead}${before}${after}${tail}`,
    `  ${gutter} | ${" ".repeat(Array.from(lead + before).length)}^`,
  ];
}
