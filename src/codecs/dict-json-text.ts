/**
 * The exact representation as JSON text: compact for the wire ([C-JSON]), and laid out as
 * `JSON.stringify(value, null, 2)` lays out a plain object, for the stored file ([V-DICT])
 * and the server's screen. Members in the order written ([C-ORDER]); integers as their
 * digits ([C-INT]); floats in their shortest form, with `.0` when it has no `.` or exponent,
 * and `-0.0` ([C-FLOAT]).
 */

import { floatText, integerText, numberText } from "./dict-number.js";
import type { DictObject, DictValue } from "./dict-value.js";

/**
 * Compact JSON text of a dictionary. Strings and keys are written by `JSON.stringify`, which
 * escapes controls, `"` and `\`, and lone surrogates (as `\udXXX`), so the text is
 * well-formed UTF-16 and any JSON parser reads back the same code units.
 *
 * The tree must be a valid exact dictionary (see `copyDictObject`): this writes whatever it
 * finds.
 */
export function dictJsonText(value: DictObject): string {
  return compactObject(value);
}

function compactObject(object: DictObject): string {
  let text = "{";
  let first = true;
  for (const [key, item] of object) {
    text += first ? JSON.stringify(key) : `,${JSON.stringify(key)}`;
    text += `:${compactValue(item)}`;
    first = false;
  }
  return `${text}}`;
}

function compactValue(value: DictValue): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "bigint":
      return integerText(value);
    case "number":
      return floatText(value);
    case "boolean":
      return value ? "true" : "false";
    default:
      if (value === null) return "null";
      if (value instanceof Map) return compactObject(value);
      return compactArray(value);
  }
}

function compactArray(array: readonly DictValue[]): string {
  let text = "[";
  for (let index = 0; index < array.length; index++) {
    if (index > 0) text += ",";
    // The tree is dense (checked when it was built), so every element is a value.
    text += compactValue(array[index] ?? null);
  }
  return `${text}]`;
}

/** How each kind of token is shown: the stored file writes JSON, a terminal adds colour. */
export interface DictJsonStyle {
  /** A key, as shown before `: `. */
  readonly key: (key: string) => string;
  readonly string: (value: string) => string;
  readonly number: (value: bigint | number) => string;
  /** `true`, `false` or `null`. */
  readonly literal: (text: "true" | "false" | "null") => string;
}

/** Plain JSON: what the stored file holds. */
export const JSON_TEXT_STYLE: DictJsonStyle = Object.freeze({
  key: (key: string) => JSON.stringify(key),
  string: (value: string) => JSON.stringify(value),
  number: numberText,
  literal: (text: "true" | "false" | "null") => text,
});

/**
 * Receives each line of the layout in turn; returns false to stop the layout there (a
 * screen shows the first lines of a large dictionary only).
 */
export type LineSink = (line: string) => boolean;

/** Two spaces per level, as `JSON.stringify(value, null, 2)`. */
const INDENT = "  ";

/**
 * Lays `value` out as `JSON.stringify(value, null, 2)` lays out a plain object (two-space
 * indent, `"key": value`, empty containers as `{}` and `[]`), one line at a time, in the
 * order written. No line ends with a newline.
 *
 * @returns false when `sink` stopped the layout.
 */
export function writeDictJsonLines(
  value: DictValue,
  sink: LineSink,
  style: DictJsonStyle = JSON_TEXT_STYLE,
): boolean {
  return new LineWriter(sink, style).value(value, "", "", "");
}

class LineWriter {
  constructor(
    private readonly sink: LineSink,
    private readonly style: DictJsonStyle,
  ) {}

  value(value: DictValue, indent: string, prefix: string, suffix: string): boolean {
    if (value instanceof Map) return this.object(value, indent, prefix, suffix);
    if (Array.isArray(value)) return this.array(value, indent, prefix, suffix);
    return this.sink(`${indent}${prefix}${this.scalar(value)}${suffix}`);
  }

  private object(object: DictObject, indent: string, prefix: string, suffix: string): boolean {
    if (object.size === 0) return this.sink(`${indent}${prefix}{}${suffix}`);
    if (!this.sink(`${indent}${prefix}{`)) return false;
    const inner = indent + INDENT;
    let remaining = object.size;
    for (const [key, item] of object) {
      remaining--;
      if (!this.value(item, inner, `${this.style.key(key)}: `, remaining > 0 ? "," : "")) {
        return false;
      }
    }
    return this.sink(`${indent}}${suffix}`);
  }

  private array(
    array: readonly DictValue[],
    indent: string,
    prefix: string,
    suffix: string,
  ): boolean {
    if (array.length === 0) return this.sink(`${indent}${prefix}[]${suffix}`);
    if (!this.sink(`${indent}${prefix}[`)) return false;
    const inner = indent + INDENT;
    const last = array.length - 1;
    for (let index = 0; index <= last; index++) {
      if (!this.value(array[index] ?? null, inner, "", index < last ? "," : "")) return false;
    }
    return this.sink(`${indent}]${suffix}`);
  }

  private scalar(value: string | bigint | number | boolean | null): string {
    if (value === null) return this.style.literal("null");
    switch (typeof value) {
      case "string":
        return this.style.string(value);
      case "boolean":
        return this.style.literal(value ? "true" : "false");
      default:
        return this.style.number(value);
    }
  }
}
