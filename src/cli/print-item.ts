import type { ChalkInstance } from "chalk";
import type { JsonValue } from "../codecs/json-value.js";
import type { ItemFailure, ReceivedItem } from "../transfer/received-item.js";
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
  if (item.encrypted) details.push("encrypted");
  const where = item.savedPath === null ? "not saved" : `saved as ${item.savedPath}`;
  return (
    c.bold(`── ${item.kind} ${escapeTerminalLine(item.name)}`) +
    " " +
    c.dim(`(${details.join(", ")}) from ${item.remote} · ${escapeTerminalLine(where)}`)
  );
}

/** The body shown for an item: a pretty dictionary, a text file's start, or a summary. */
export function itemBody(item: ReceivedItem, c: ChalkInstance): string {
  if (item.value !== undefined) return prettyJson(item.value, c, "");
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
  return escapeTerminalLine(`${what} failed: ${failure.code}: ${failure.message}`);
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

/** JSON.stringify(x, null, 2) with colours, and every string made terminal-safe. */
export function prettyJson(value: JsonValue, c: ChalkInstance, indent: string): string {
  if (value === null) return c.dim("null");
  if (typeof value === "boolean") return c.magenta(String(value));
  if (typeof value === "number") return c.yellow(String(value));
  if (typeof value === "string") return c.green(quote(value));
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((entry) => `${inner}${prettyJson(entry, c, inner)}`);
    return `[\n${items.join(",\n")}\n${indent}]`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return "{}";
  const entries = keys.map((key) => {
    const entry = value[key] ?? null;
    return `${inner}${c.cyan(quote(key))}: ${prettyJson(entry, c, inner)}`;
  });
  return `{\n${entries.join(",\n")}\n${indent}}`;
}

function quote(text: string): string {
  // JSON.stringify escapes C0 controls; the rest of the unsafe set is escaped here.
  return escapeTerminalLine(JSON.stringify(text));
}
