import type { ChalkInstance } from "chalk";
import {
  MAX_PRINTABLE_DICT_LINES,
  printableDict,
  type PrintableDict,
  type PrintableTokenKind,
} from "../codecs/dict-printable.js";
import type { DictValue } from "../codecs/dict-value.js";
import type { ItemFailure, ReceivedItem } from "../transfer/server/received-item.js";
import { formatBytes } from "./format-bytes.js";
import { escapeTerminalLine, escapeTerminalText } from "./terminal-text.js";

/** Characters of a text file shown before it is cut with a note. */
export const MAX_SHOWN_TEXT_CHARS = 2000;

/** Share of control characters above which a file counts as binary. */
const MAX_CONTROL_CHAR_RATIO = 0.02;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The heading line printed above every received item. */
export function itemHeading(item: ReceivedItem, c: ChalkInstance): string {
  const details = [formatBytes(item.bytes)];
  if (item.format !== undefined) details.push(item.format);
  if (item.session.fingerprint !== null) {
    details.push(`encrypted, session ${item.session.fingerprint}`);
  }
  const where = item.savedPath === null ? "not saved" : `saved as ${item.savedPath}`;
  return (
    c.bold(`── ${item.kind} ${escapeTerminalLine(item.name)}`) +
    " " +
    c.dim(`(${details.join(", ")}) from ${item.remote} · ${escapeTerminalLine(where)}`)
  );
}

/** The body shown for an item: a pretty dictionary, a text file's start, or a summary. */
export function itemBody(item: ReceivedItem, c: ChalkInstance): string {
  if (item.printable !== undefined) return printableText(item.printable, c);
  if (item.value !== undefined) return prettyJson(item.value, c);
  if (item.kind === "dir") return c.dim("(directory)");
  const preview = item.preview ?? Buffer.alloc(0);
  if (item.bytes === 0) return c.dim("(empty file)");
  const text = decodeText(preview, preview.length < item.bytes);
  if (text === undefined) {
    return c.dim(`binary file, ${formatBytes(item.bytes)}, sha256 ${item.sha256}`);
  }
  const shown = Array.from(text).slice(0, MAX_SHOWN_TEXT_CHARS).join("");
  // CR LF line ends display as plain line ends; a lone CR is still escaped.
  const body = escapeTerminalText(shown.replace(/\r\n/g, "\n")).replace(/\n$/, "");
  const shownBytes = Buffer.byteLength(shown, "utf8");
  if (shownBytes < item.bytes) {
    return `${body}\n${c.dim(`… (cut: showing ${formatBytes(shownBytes)} of ${formatBytes(item.bytes)})`)}`;
  }
  return body;
}

/** One line for a failed item or connection. */
export function failureLine(failure: ItemFailure): string {
  const what =
    failure.id === undefined
      ? `connection ${failure.connectionId} from ${failure.remote}`
      : `item ${failure.id}${failure.name === undefined ? "" : ` (${failure.name})`} from ${failure.remote}`;
  const session =
    failure.session.fingerprint === null ? "" : ` (session ${failure.session.fingerprint})`;
  return escapeTerminalLine(`${what}${session} failed: ${failure.code}: ${failure.message}`);
}

/**
 * Decodes a file's first bytes as text, or returns undefined for binary content.
 * `truncated` allows an incomplete UTF-8 sequence at the very end (the preview cut).
 */
function decodeText(bytes: Buffer, truncated: boolean): string | undefined {
  if (bytes.includes(0)) return undefined;
  let text: string | undefined;
  for (let trim = 0; trim <= (truncated ? 3 : 0) && text === undefined; trim++) {
    try {
      text = strictUtf8.decode(bytes.subarray(0, bytes.length - trim));
    } catch {
      text = undefined;
    }
  }
  if (text === undefined) return undefined;
  let controls = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if ((code < 0x20 && char !== "\n" && char !== "\t" && char !== "\r") || code === 0x7f)
      controls++;
  }
  return controls > text.length * MAX_CONTROL_CHAR_RATIO ? undefined : text;
}

/** Lines of a dictionary shown before it is cut with a note. */
export const MAX_SHOWN_DICT_LINES = MAX_PRINTABLE_DICT_LINES;

/**
 * A dictionary laid out as the server stores it (`JSON.stringify(x, null, 2)`'s layout,
 * members in the order written, integers as their digits, floats with `.0`), with
 * colours, every string made terminal-safe, and at most `maxLines` lines: a peer's 16 MiB
 * dictionary is shown as its beginning and a note, never built into one huge string.
 */
export function prettyJson(
  value: DictValue,
  c: ChalkInstance,
  maxLines = MAX_SHOWN_DICT_LINES,
): string {
  return printableText(printableDict(value, maxLines), c);
}

/** A dictionary's printable form (made by the server, off its event loop), coloured. */
function printableText(printable: PrintableDict, c: ChalkInstance): string {
  const colour: Record<PrintableTokenKind, (text: string) => string> = {
    plain: (text) => text,
    key: c.cyan,
    string: c.green,
    number: c.yellow,
    literal: (text) => (text === "null" ? c.dim(text) : c.magenta(text)),
  };
  const shown = printable.lines.map((line) =>
    line.map((token) => colour[token.kind](escapeTerminalLine(token.text))).join(""),
  );
  if (printable.more > 0) {
    const more = printable.moreIsLowerBound
      ? `more than ${printable.more}`
      : String(printable.more);
    shown.push(c.dim(`… (cut: ${more} more lines)`));
  }
  return shown.join("\n");
}
