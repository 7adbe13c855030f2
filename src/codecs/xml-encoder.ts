/**
 * The `xml` format's encoder ([C-XML]): a small typed XML vocabulary in which every
 * dictionary value survives exactly (types, order, integers of any size, floats, white
 * space, and characters XML 1.0 cannot carry).
 *
 * ```xml
 * <?xml version="1.0" encoding="UTF-8"?>
 * <dict xmlns="urn:gb-transfer:dict:1">
 *   <string key="name">Ada &amp; Co</string>
 *   <number key="age">36</number>
 *   <number key="ratio">1.0</number>
 *   <boolean key="ok">true</boolean>
 *   <null key="nothing"/>
 *   <array key="tags">
 *     <string>a</string>
 *     <number>-1.5e-7</number>
 *   </array>
 *   <object key="nested">
 *     <string key="">empty key</string>
 *   </object>
 *   <string key-json="&quot;bell\u0007&quot;" encoding="json">"tab\t and NUL \u0000"</string>
 * </dict>
 * ```
 */

import { floatText, integerText } from "./dict-number.js";
import type { DictObject, DictValue } from "./dict-value.js";
import {
  DICT_XML_NAMESPACE,
  ENCODING_ATTRIBUTE,
  JSON_ENCODING,
  KEY_ATTRIBUTE,
  KEY_JSON_ATTRIBUTE,
  ROOT_ELEMENT,
} from "./xml-vocabulary.js";

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const INDENT = "  ";

/** Lone surrogates: in a `u` regex a well-formed pair is one code point, not Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const FIRST_NON_CONTROL = 0x20;
const NONCHARACTER_FFFE = 0xfffe;
const NONCHARACTER_FFFF = 0xffff;
const HEX_RADIX = 16;

/**
 * Encodes an already checked exact dictionary as XML, pretty-printed with two-space
 * indentation, members in the order written ([C-ORDER]). An integer is written as its
 * digits ([C-INT]), a float in its shortest form with `.0` when that has no `.` or exponent,
 * `-0.0` for negative zero ([C-FLOAT]). Callers outside this folder use `encodeDict`, which
 * checks the tree and applies the size limit.
 */
export function encodeXmlDict(value: DictObject): Uint8Array {
  const lines = [XML_DECLARATION];
  writeContainer(lines, 0, ROOT_ELEMENT, ` xmlns="${DICT_XML_NAMESPACE}"`, objectChildren(value));
  return Buffer.from(lines.join("\n") + "\n", "utf8");
}

/** One child to write: its attributes (` key="..."` or nothing) and its value. */
type Child = readonly [attributes: string, value: DictValue];

function objectChildren(value: DictObject): Child[] {
  return Array.from(value, ([key, item]): Child => [keyAttribute(key), item]);
}

function writeValue(lines: string[], level: number, attributes: string, value: DictValue): void {
  const indent = INDENT.repeat(level);
  if (value === null) {
    lines.push(`${indent}<null${attributes}/>`);
  } else if (typeof value === "boolean") {
    lines.push(`${indent}<boolean${attributes}>${value ? "true" : "false"}</boolean>`);
  } else if (typeof value === "bigint") {
    lines.push(`${indent}<number${attributes}>${integerText(value)}</number>`);
  } else if (typeof value === "number") {
    lines.push(`${indent}<number${attributes}>${floatText(value)}</number>`);
  } else if (typeof value === "string") {
    lines.push(indent + stringElement(attributes, value));
  } else if (value instanceof Map) {
    writeContainer(lines, level, "object", attributes, objectChildren(value));
  } else {
    writeContainer(
      lines,
      level,
      "array",
      attributes,
      value.map((item): Child => ["", item]),
    );
  }
}

function writeContainer(
  lines: string[],
  level: number,
  element: string,
  attributes: string,
  children: readonly Child[],
): void {
  const indent = INDENT.repeat(level);
  if (children.length === 0) {
    lines.push(`${indent}<${element}${attributes}/>`);
    return;
  }
  lines.push(`${indent}<${element}${attributes}>`);
  for (const [childAttributes, child] of children) {
    writeValue(lines, level + 1, childAttributes, child);
  }
  lines.push(`${indent}</${element}>`);
}

function stringElement(attributes: string, value: string): string {
  if (value === "") return `<string${attributes}/>`;
  if (isXmlCarriable(value)) return `<string${attributes}>${escapeText(value)}</string>`;
  const literal = escapeText(jsonStringLiteral(value));
  return `<string${attributes} ${ENCODING_ATTRIBUTE}="${JSON_ENCODING}">${literal}</string>`;
}

function keyAttribute(key: string): string {
  return isXmlCarriable(key)
    ? ` ${KEY_ATTRIBUTE}="${escapeAttribute(key)}"`
    : ` ${KEY_JSON_ATTRIBUTE}="${escapeAttribute(jsonStringLiteral(key))}"`;
}

/**
 * True when every character of `text` is allowed by XML 1.0's Char production (section 2.2):
 * no C0 control other than tab, LF and CR, no lone surrogate, no U+FFFE or U+FFFF. Such
 * characters cannot appear in XML at all, not even as character references.
 */
function isXmlCarriable(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (
      unit < FIRST_NON_CONTROL &&
      unit !== TAB &&
      unit !== LINE_FEED &&
      unit !== CARRIAGE_RETURN
    ) {
      return false;
    }
    // A surrogate pair is made of D800-DFFF units, so a FFFE/FFFF unit is always that character.
    if (unit === NONCHARACTER_FFFE || unit === NONCHARACTER_FFFF) return false;
  }
  return !LONE_SURROGATE.test(text);
}

/**
 * A JSON string literal that XML can carry. `JSON.stringify` escapes C0 controls and lone
 * surrogates as `\uXXXX` but leaves U+FFFE and U+FFFF raw, so those are escaped here too.
 */
function jsonStringLiteral(text: string): string {
  return JSON.stringify(text).replace(
    /[\uFFFE\uFFFF]/g,
    (character) => `\\u${character.charCodeAt(0).toString(HEX_RADIX)}`,
  );
}

/**
 * Escapes character data. `\r` is written as a reference because XML end-of-line handling
 * (section 2.11) would turn a literal CR into LF.
 */
function escapeText(text: string): string {
  return text.replace(/[&<>\r]/g, (character) => TEXT_ESCAPES[character] ?? character);
}

/**
 * Escapes an attribute value in double quotes. Tab, LF and CR are written as references
 * because attribute-value normalisation (section 3.3.3) would turn them into spaces.
 */
function escapeAttribute(text: string): string {
  return text.replace(/[&<"\t\n\r]/g, (character) => ATTRIBUTE_ESCAPES[character] ?? character);
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\r": "&#xD;",
};

const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  '"': "&quot;",
  "\t": "&#x9;",
  "\n": "&#xA;",
  "\r": "&#xD;",
};
