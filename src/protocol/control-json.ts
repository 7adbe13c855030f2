/**
 * A strict JSON parser for control messages (PROTOCOL.md, "Conventions").
 *
 * `JSON.parse` cannot serve here: it keeps the last of duplicate member names, and it
 * reads `1`, `1.0` and `1e0` as the same number, while the protocol refuses duplicates
 * [J-DUP] and accepts only the plain integer token for an integer [J-INTEGER]. So
 * this parser keeps every number's token, keeps objects as maps (no prototype, no
 * `__proto__` surprises) and refuses what RFC 8259 does not allow. It is iterative (an
 * explicit stack, so no input can exhaust the call stack) and linear in its input, which
 * is bounded by the control frame limit. A text written exactly as `JSON.stringify`
 * writes it (what every sender of this implementation writes) is read through V8's own
 * `JSON.parse` instead, after a check that proves the reading the same.
 */

import { ErrorCode, ProtocolError } from "../errors.js";
import { MAX_CONTROL_FRAME_BYTES } from "./constants.js";

/** A JSON number as its token in the text, so that `1` and `1.0` stay apart. */
export class JsonNumberToken {
  /** The token exactly as sent, e.g. `1`, `-0`, `1.5e3`. */
  readonly token: string;

  constructor(token: string) {
    this.token = token;
  }

  /** The nearest double, as `JSON.parse` would read it. */
  get value(): number {
    return Number(this.token);
  }
}

/** A JSON object: member names in document order, each unique. */
export type ControlObject = ReadonlyMap<string, ControlValue>;

/** A parsed JSON value of a control message. */
export type ControlValue =
  null | boolean | string | JsonNumberToken | readonly ControlValue[] | ControlObject;

// [J-TEXT] malformed UTF-8 throws. [J-BOM] ignoreBOM keeps a leading U+FEFF in the text,
// where it is not JSON white space, so a byte-order mark is refused like any stray character.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// RFC 8259 section 6, matched at one position (sticky).
const NUMBER_TOKEN = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
// RFC 8259 section 7: everything but the quotation mark, the reverse solidus and the
// controls U+0000-U+001F stands for itself in a string (sticky; may match nothing).
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

const QUOTATION_MARK = 0x22;
const REVERSE_SOLIDUS = 0x5c;
const BEGIN_ARRAY = 0x5b;
const END_ARRAY = 0x5d;
const BEGIN_OBJECT = 0x7b;
const END_OBJECT = 0x7d;
const NAME_SEPARATOR = 0x3a;
const VALUE_SEPARATOR = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const LETTER_F = 0x66;
const LETTER_N = 0x6e;
const LETTER_T = 0x74;
/** Hex digits in a `\uXXXX` escape. */
const UNICODE_ESCAPE_DIGITS = 4;

const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ["\\", "\\"],
  ["/", "/"],
  ["b", "\b"],
  ["f", "\f"],
  ["n", "\n"],
  ["r", "\r"],
  ["t", "\t"],
]);

function malformed(what: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    ErrorCode.MALFORMED_MESSAGE,
    `malformed message: ${what}`,
    cause === undefined ? undefined : { cause },
  );
}

/** An open container: the values read so far, and for an object the pending name. */
type OpenContainer =
  | { readonly kind: "array"; readonly items: ControlValue[] }
  | { readonly kind: "object"; readonly members: Map<string, ControlValue>; name: string };

/**
 * Parses one JSON text (RFC 8259) encoded as UTF-8, exactly: no byte-order mark
 * [J-BOM], no duplicate member names at any level [J-DUP], white space only
 * where the grammar allows it (space, tab, LF, CR), nothing after the value. Escaped lone
 * surrogates (`"\ud800"`) are valid JSON and are kept, as `JSON.parse` keeps them.
 *
 * @param payload at most `maxBytes` bytes.
 * @param maxBytes the message's limit: {@link MAX_CONTROL_FRAME_BYTES}, but for a HELD's
 *   [M-HELD].
 * @throws {ProtocolError} MALFORMED_MESSAGE for anything else.
 */
export function parseControlJson(
  payload: Uint8Array,
  maxBytes: number = MAX_CONTROL_FRAME_BYTES,
): ControlValue {
  // [J-TEXT] bounded by the control frame limit [F-LIMIT], whoever calls.
  if (payload.byteLength > maxBytes) {
    throw malformed(`a control message is over ${maxBytes} bytes`);
  }
  let text: string;
  try {
    text = strictUtf8.decode(payload);
  } catch (error) {
    throw malformed("not valid UTF-8", error);
  }
  return canonicalValue(text) ?? parseControlText(text);
}

/**
 * Parses a JSON text as {@link parseControlJson} does once it is decoded, character by
 * character: the exact reading, whatever the text's form.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function parseControlText(text: string): ControlValue {
  return new ControlJsonParser(text).parse();
}

/** Nesting the shortcut converts, at most: deeper texts go to the parser, which keeps no stack. */
const CANONICAL_MAX_DEPTH = 64;

/**
 * The value of `text` when it is written exactly as `JSON.stringify` writes what
 * `JSON.parse` reads from it; undefined otherwise. Such a text has no white space, no
 * duplicate member name (`JSON.parse` keeps one, so it would not be written back the
 * same), its members in the order `JSON.parse` lists them, and every number as the
 * shortest token of its double (so `1.0`, `-0` and `1e0` are not such texts): so its
 * value, with each number's token written back, is what {@link parseControlText} reads
 * from it. Every message this implementation writes is such a text; reading one through
 * V8's own parser and writer takes a fraction of the time the exact parser takes, before
 * V8 has optimized it (gb-client reads a receipt for every file of a tree). Any other
 * text goes to the exact parser, which decides.
 */
function canonicalValue(text: string): ControlValue | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
    if (JSON.stringify(value) !== text) return undefined;
  } catch {
    // Not JSON, or too deep for V8's writer: the exact parser says why, or reads it.
    return undefined;
  }
  return fromParsed(value, 0);
}

/** `value`, read by `JSON.parse`, as a control value; undefined when nested too deep. */
function fromParsed(value: unknown, depth: number): ControlValue | undefined {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return new JsonNumberToken(String(value));
  if (depth === CANONICAL_MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const items: ControlValue[] = [];
    for (const item of value as unknown[]) {
      const converted = fromParsed(item, depth + 1);
      if (converted === undefined) return undefined;
      items.push(converted);
    }
    return items;
  }
  const record = value as Record<string, unknown>;
  const members = new Map<string, ControlValue>();
  for (const name of Object.keys(record)) {
    const converted = fromParsed(record[name], depth + 1);
    if (converted === undefined) return undefined;
    members.set(name, converted);
  }
  return members;
}

class ControlJsonParser {
  readonly #text: string;
  #position = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): ControlValue {
    const open: OpenContainer[] = [];
    for (;;) {
      this.#skipWhiteSpace();
      let value: ControlValue;
      const char = this.#text.charCodeAt(this.#position);
      if (char === BEGIN_OBJECT || char === BEGIN_ARRAY) {
        this.#position += 1;
        this.#skipWhiteSpace();
        if (char === BEGIN_OBJECT) {
          if (this.#take(END_OBJECT)) {
            value = new Map();
          } else {
            open.push({ kind: "object", members: new Map(), name: this.#memberName() });
            continue;
          }
        } else if (this.#take(END_ARRAY)) {
          value = [];
        } else {
          open.push({ kind: "array", items: [] });
          continue;
        }
      } else {
        value = this.#scalar();
      }
      // Hand the value to its container; each container the next token closes is in turn
      // a value for the one around it.
      for (;;) {
        const container = open[open.length - 1];
        if (container === undefined) {
          this.#skipWhiteSpace();
          if (this.#position !== this.#text.length) throw this.#unexpected();
          return value;
        }
        if (container.kind === "array") {
          container.items.push(value);
        } else {
          // [J-DUP] a name repeated in one object is refused, whatever its value.
          if (container.members.has(container.name)) {
            throw malformed(`duplicate member name ${JSON.stringify(container.name)}`);
          }
          container.members.set(container.name, value);
        }
        this.#skipWhiteSpace();
        if (this.#take(VALUE_SEPARATOR)) {
          if (container.kind === "object") {
            this.#skipWhiteSpace();
            container.name = this.#memberName();
          }
          break;
        }
        if (!this.#take(container.kind === "array" ? END_ARRAY : END_OBJECT)) {
          throw this.#unexpected();
        }
        open.pop();
        value = container.kind === "array" ? container.items : container.members;
      }
    }
  }

  /** A member name and its `:`; white space before the name is already skipped. */
  #memberName(): string {
    if (this.#text.charCodeAt(this.#position) !== QUOTATION_MARK) throw this.#unexpected();
    const name = this.#string();
    this.#skipWhiteSpace();
    if (!this.#take(NAME_SEPARATOR)) throw this.#unexpected();
    return name;
  }

  #scalar(): ControlValue {
    const text = this.#text;
    const position = this.#position;
    switch (text.charCodeAt(position)) {
      case QUOTATION_MARK:
        return this.#string();
      case LETTER_T:
        return this.#literal("true", true);
      case LETTER_F:
        return this.#literal("false", false);
      case LETTER_N:
        return this.#literal("null", null);
      default: {
        NUMBER_TOKEN.lastIndex = position;
        if (!NUMBER_TOKEN.test(text)) throw this.#unexpected();
        this.#position = NUMBER_TOKEN.lastIndex;
        return new JsonNumberToken(text.slice(position, this.#position));
      }
    }
  }

  #literal<T extends boolean | null>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.#position)) throw this.#unexpected();
    this.#position += word.length;
    return value;
  }

  /** A string starting at its opening quotation mark. */
  #string(): string {
    const text = this.#text;
    let position = this.#position + 1;
    let result = "";
    for (;;) {
      // The run of characters that stand for themselves, matched in one step.
      PLAIN_RUN.lastIndex = position;
      PLAIN_RUN.test(text);
      const runEnd = PLAIN_RUN.lastIndex;
      result += text.slice(position, runEnd);
      position = runEnd;
      if (position >= text.length) throw malformed("unterminated string");
      const char = text.charCodeAt(position);
      if (char === QUOTATION_MARK) break;
      if (char !== REVERSE_SOLIDUS) {
        throw malformed(`unescaped control character at ${position}`);
      }
      const escape = text.charAt(position + 1);
      const simple = SIMPLE_ESCAPES.get(escape);
      if (simple !== undefined) {
        result += simple;
        position += 2;
      } else if (escape === "u") {
        const digits = text.slice(position + 2, position + 2 + UNICODE_ESCAPE_DIGITS);
        if (!HEX4.test(digits)) throw malformed(`bad \\u escape at ${position}`);
        result += String.fromCharCode(Number.parseInt(digits, 16));
        position += 2 + UNICODE_ESCAPE_DIGITS;
      } else {
        throw malformed(`bad escape at ${position}`);
      }
    }
    this.#position = position + 1;
    return result;
  }

  #skipWhiteSpace(): void {
    const text = this.#text;
    let position = this.#position;
    for (;;) {
      const char = text.charCodeAt(position);
      if (char !== SPACE && char !== TAB && char !== LINE_FEED && char !== CARRIAGE_RETURN) break;
      position += 1;
    }
    this.#position = position;
  }

  #take(char: number): boolean {
    if (this.#text.charCodeAt(this.#position) !== char) return false;
    this.#position += 1;
    return true;
  }

  #unexpected(): ProtocolError {
    return this.#position >= this.#text.length
      ? malformed("unexpected end of JSON")
      : malformed(`unexpected character at ${this.#position}`);
  }
}
