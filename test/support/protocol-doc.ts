import { readFileSync } from "node:fs";

/** A line of a Markdown table: its cells, split at `|` not escaped as `\|`. */
const CELL_SEPARATOR = /(?<!\\)\|/;

/**
 * PROTOCOL.md as the vector tests read it: each table row with the padding around its
 * cells removed (`| a | b |`), so that a formatter aligning the columns changes nothing.
 */
export function readProtocolDoc(): string {
  const text = readFileSync(new URL("../../PROTOCOL.md", import.meta.url), "utf8");
  return text
    .split("\n")
    .map((line) =>
      line.startsWith("|")
        ? line
            .split(CELL_SEPARATOR)
            .map((cell) => cell.trim())
            .join(" | ")
            .trim()
        : line,
    )
    .join("\n");
}
