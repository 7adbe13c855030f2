/**
 * The `xml` dictionary format: a small typed XML vocabulary in which every JSON value
 * survives exactly (types, key order, whitespace, and characters XML 1.0 cannot carry).
 *
 * ```xml
 * <?xml version="1.0" encoding="UTF-8"?>
 * <dict xmlns="urn:gb-transfer:dict:1">
 *   <string key="name">Ada &amp; Co</string>
 *   <number key="age">36</number>
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
 *
 * The decoder is strict and refuses DOCTYPEs (so no entity can ever be declared or
 * expanded), processing instructions, unknown elements and attributes, and text where an
 * element belongs. The rules are listed on {@link decodeXmlDict}.
 */

import { createRequire } from "node:module";
import type * as Saxes from "saxes";
import type { SaxesTagNS, XMLDecl } from "saxes";
import { CodecError, ErrorCode } from "../errors.js";
import { setOwnProperty, type JsonObject, type JsonValue } from "./json-value.js";
import { checkDictDepth, checkDictSize, checkDictValues, type DictLimits } from "./limits.js";
import { decodeStrictUtf8 } from "./strict-utf8.js";

/** The namespace of every element of the format. */
export const DICT_XML_NAMESPACE = "urn:gb-transfer:dict:1";

/** Namespace declarations (`xmlns`, `xmlns:p`) are reported as attributes in this namespace. */
const XMLNS_NAMESPACE = "http://www.w3.org/2000/xmlns/";
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const INDENT = "  ";

const ROOT_ELEMENT = "dict";
const KEY_ATTRIBUTE = "key";
const KEY_JSON_ATTRIBUTE = "key-json";
const ENCODING_ATTRIBUTE = "encoding";
const JSON_ENCODING = "json";

type ScalarElement = "string" | "number" | "boolean" | "null";
type ContainerElement = "object" | "array";

/**
 * The JSON number grammar (RFC 8259 section 6). It already admits `e+`, which is how
 * `String(n)` writes large exponents (`1e+300`).
 */
const NUMBER_TEXT = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
/** The XML whitespace production S: space, tab, CR, LF. */
const XML_WHITESPACE = /^[ \t\r\n]*$/;
/** Lone surrogates: in a `u` regex a well-formed pair is one code point, not Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const FIRST_NON_CONTROL = 0x20;
const NONCHARACTER_FFFE = 0xfffe;
const NONCHARACTER_FFFF = 0xffff;
const HEX_RADIX = 16;

let saxes: typeof Saxes | undefined;

/**
 * saxes (a CommonJS package) is loaded on the first XML decode, not at start-up: most
 * runs never parse XML, and it costs about 10 MB of memory and several ms to load.
 */
function loadSaxes(): typeof Saxes {
  saxes ??= createRequire(import.meta.url)("saxes") as typeof Saxes;
  return saxes;
}

/**
 * Encodes an already validated dictionary as XML, pretty-printed with two-space indentation.
 *
 * -0 is written as `0` (`String(-0)` is `"0"`), following the data model. Callers outside this
 * folder use `encodeDict`, which validates and applies the size limit.
 */
export function encodeXmlDict(value: JsonObject): Uint8Array {
  const lines = [XML_DECLARATION];
  writeContainer(lines, 0, ROOT_ELEMENT, ` xmlns="${DICT_XML_NAMESPACE}"`, objectChildren(value));
  return Buffer.from(lines.join("\n") + "\n", "utf8");
}

/** One child to write: its attributes (` key="..."` or nothing) and its value. */
type Child = readonly [attributes: string, value: JsonValue];

function objectChildren(value: JsonObject): Child[] {
  return Object.entries(value).map(([key, item]) => [keyAttribute(key), item]);
}

function writeValue(lines: string[], level: number, attributes: string, value: JsonValue): void {
  const indent = INDENT.repeat(level);
  if (value === null) {
    lines.push(`${indent}<null${attributes}/>`);
  } else if (typeof value === "boolean") {
    lines.push(`${indent}<boolean${attributes}>${value ? "true" : "false"}</boolean>`);
  } else if (typeof value === "number") {
    // String(n) is the shortest text that reads back as exactly n.
    lines.push(`${indent}<number${attributes}>${String(value)}</number>`);
  } else if (typeof value === "string") {
    lines.push(indent + stringElement(attributes, value));
  } else if (Array.isArray(value)) {
    writeContainer(
      lines,
      level,
      "array",
      attributes,
      value.map((item): Child => ["", item]),
    );
  } else {
    writeContainer(lines, level, "object", attributes, objectChildren(value));
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

/**
 * Decodes an XML dictionary.
 *
 * Rules (a violation is DICT_INVALID unless stated):
 * - The bytes are UTF-8. An XML declaration is optional; if present its version must be
 *   `1.0` and its encoding, if given, `UTF-8` (any case). The document is parsed as XML 1.0
 *   whatever it declares.
 * - No DOCTYPE (so no entity declarations, internal or external), and no processing
 *   instruction. Only the five predefined entities and character references are known;
 *   any other entity reference is an error. Comments are ignored anywhere. CDATA sections
 *   count as text.
 * - The root element is `dict` in namespace `urn:gb-transfer:dict:1`, with no `key`,
 *   `key-json` or `encoding`; it is the top-level object (depth 1). Every element must be
 *   in that namespace (any prefix, or the default namespace).
 * - Elements: `object`, `array`, `string`, `number`, `boolean`, `null`. Attributes: `key`,
 *   `key-json`, `encoding`, and namespace declarations; nothing else.
 * - Each child of `dict` or `object` has exactly one of `key` (the key itself) or `key-json`
 *   (a JSON string literal whose value is the key). Keys are unique within one object.
 *   Children of `array` have neither. Order is kept.
 * - `object` and `array` contain only child elements, comments and whitespace. An `object`
 *   or `array` deeper than `limits.maxDepth` is DICT_TOO_DEEP, refused as it opens.
 * - Every element is one value (`dict` included); the element that makes more than
 *   `limits.maxValues` of them is DICT_TOO_LARGE, refused as it opens.
 * - `string`: its text, exactly (whitespace included). With `encoding="json"` (the only
 *   allowed value, and only on `string`) the text is a JSON string literal whose value is
 *   the string. `number`: text matching the JSON number grammar, read with `Number()`, finite
 *   (-0 reads as 0). `boolean`: `true` or `false`. `null`: empty. None of these contain
 *   elements; `number`, `boolean` and `null` allow no surrounding whitespace.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` is longer than `limits.maxBytes`
 *   (checked before anything is decoded), or it holds more than `limits.maxValues` values.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when containers nest deeper than `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_INVALID` for malformed UTF-8 or XML and any rule above.
 */
export function decodeXmlDict(bytes: Uint8Array, limits: DictLimits): JsonObject {
  checkDictSize(bytes.byteLength, limits);
  const text = decodeStrictUtf8(bytes);
  const builder = new DictBuilder(limits);
  // XML 1.1 would also treat U+0085 and U+2028 as line ends and change them; forcing 1.0
  // keeps every string exact whatever the declaration says (and we refuse 1.1 anyway).
  const parser = new (loadSaxes().SaxesParser)({
    xmlns: true,
    defaultXMLVersion: "1.0",
    forceXMLVersion: true,
  });
  parser.on("xmldecl", checkDeclaration);
  parser.on("doctype", () => {
    throw invalid("DOCTYPE declarations are refused, and with them entity declarations");
  });
  parser.on("processinginstruction", ({ target }) => {
    throw invalid(`processing instructions are refused (found <?${target}?>)`);
  });
  parser.on("opentag", (tag) => {
    builder.open(tag);
  });
  parser.on("text", (content) => {
    builder.text(content);
  });
  parser.on("cdata", (content) => {
    builder.text(content);
  });
  parser.on("closetag", () => {
    builder.close();
  });
  try {
    parser.write(text).close();
  } catch (error) {
    if (error instanceof CodecError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new CodecError(ErrorCode.DICT_INVALID, `dictionary is not well-formed XML: ${detail}`, {
      cause: error,
    });
  }
  return builder.result();
}

function checkDeclaration(declaration: XMLDecl): void {
  if (declaration.version !== "1.0") {
    throw invalid(`XML version must be 1.0, not ${String(declaration.version)}`);
  }
  if (declaration.encoding !== undefined && declaration.encoding.toLowerCase() !== "utf-8") {
    throw invalid(`XML encoding must be UTF-8, not ${declaration.encoding}`);
  }
}

/** An element being read, and where its value goes once it closes. */
type Frame = (
  | { readonly kind: "object"; readonly depth: number; readonly value: JsonObject }
  | { readonly kind: "array"; readonly depth: number; readonly value: JsonValue[] }
  | { readonly kind: ScalarElement; readonly json: boolean; text: string }
) & {
  /** The key in the parent object; undefined in an array and for the root. */
  readonly key: string | undefined;
};

/** Builds the dictionary from parser events, enforcing the schema as it goes. */
class DictBuilder {
  private readonly stack: Frame[] = [];
  private root: JsonObject | undefined;
  /** Elements opened so far: every element is one value, and keys are attributes. */
  private values = 0;

  constructor(private readonly limits: DictLimits) {}

  open(tag: SaxesTagNS): void {
    if (tag.uri !== DICT_XML_NAMESPACE) {
      throw invalid(`element <${tag.name}> is not in namespace ${DICT_XML_NAMESPACE}`);
    }
    const attributes = readAttributes(tag);
    const parent = this.stack.at(-1);
    if (parent === undefined) {
      if (tag.local !== ROOT_ELEMENT)
        throw invalid(`the root element must be <dict>, not <${tag.name}>`);
      if (
        attributes.key !== undefined ||
        attributes.keyJson !== undefined ||
        attributes.encoding !== undefined
      ) {
        throw invalid("<dict> takes no key or encoding attribute");
      }
      checkDictDepth(1, this.limits);
      this.countValue();
      this.stack.push({ kind: "object", depth: 1, value: {}, key: undefined });
      return;
    }
    if (parent.kind !== "object" && parent.kind !== "array") {
      throw invalid(`<${parent.kind}> cannot contain elements (found <${tag.name}>)`);
    }
    const key = childKey(parent, attributes, tag.name);
    const element = tag.local;
    if (
      attributes.encoding !== undefined &&
      (element !== "string" || attributes.encoding !== JSON_ENCODING)
    ) {
      throw invalid(
        `encoding="${attributes.encoding}" is only allowed as encoding="json" on <string>`,
      );
    }
    if (isContainerElement(element)) {
      const depth = parent.depth + 1;
      checkDictDepth(depth, this.limits);
      this.countValue();
      this.stack.push(
        element === "object"
          ? { kind: "object", depth, value: {}, key }
          : { kind: "array", depth, value: [], key },
      );
    } else if (isScalarElement(element)) {
      this.countValue();
      this.stack.push({ kind: element, json: attributes.encoding !== undefined, text: "", key });
    } else {
      throw invalid(`unknown element <${tag.name}>`);
    }
  }

  private countValue(): void {
    this.values++;
    checkDictValues(this.values, this.limits);
  }

  text(content: string): void {
    const top = this.stack.at(-1);
    if (top === undefined || top.kind === "object" || top.kind === "array") {
      if (!XML_WHITESPACE.test(content)) throw invalid("text found where an element was expected");
      return;
    }
    top.text += content;
  }

  close(): void {
    const frame = this.stack.pop();
    if (frame === undefined) throw invalid("closing tag without an open element");
    const value = frameValue(frame);
    const parent = this.stack.at(-1);
    if (parent === undefined) {
      if (frame.kind === "object") this.root = frame.value;
      return;
    }
    if (parent.kind === "array") {
      parent.value.push(value);
    } else if (parent.kind === "object" && frame.key !== undefined) {
      setOwnProperty(parent.value, frame.key, value);
    } else {
      // open() guarantees containers as parents and keys for object children.
      throw invalid("element in an impossible position");
    }
  }

  result(): JsonObject {
    if (this.root === undefined) throw invalid("the document has no <dict> element");
    return this.root;
  }
}

interface DictAttributes {
  key?: string;
  keyJson?: string;
  encoding?: string;
}

function readAttributes(tag: SaxesTagNS): DictAttributes {
  const found: DictAttributes = {};
  for (const attribute of Object.values(tag.attributes)) {
    if (attribute.uri === XMLNS_NAMESPACE) continue;
    if (attribute.uri === "" && attribute.local === KEY_ATTRIBUTE) found.key = attribute.value;
    else if (attribute.uri === "" && attribute.local === KEY_JSON_ATTRIBUTE)
      found.keyJson = attribute.value;
    else if (attribute.uri === "" && attribute.local === ENCODING_ATTRIBUTE)
      found.encoding = attribute.value;
    else throw invalid(`unknown attribute ${attribute.name} on <${tag.name}>`);
  }
  return found;
}

function childKey(
  parent: Extract<Frame, { kind: ContainerElement }>,
  attributes: DictAttributes,
  name: string,
): string | undefined {
  if (parent.kind === "array") {
    if (attributes.key !== undefined || attributes.keyJson !== undefined) {
      throw invalid(`<${name}> inside <array> must not have a key`);
    }
    return undefined;
  }
  if (attributes.key !== undefined && attributes.keyJson !== undefined) {
    throw invalid(`<${name}> has both key and key-json`);
  }
  const key =
    attributes.keyJson === undefined
      ? attributes.key
      : parseJsonString(attributes.keyJson, KEY_JSON_ATTRIBUTE);
  if (key === undefined) throw invalid(`<${name}> inside an object needs a key`);
  if (Object.hasOwn(parent.value, key)) throw invalid(`duplicate key ${JSON.stringify(key)}`);
  return key;
}

function frameValue(frame: Frame): JsonValue {
  switch (frame.kind) {
    case "object":
    case "array":
      return frame.value;
    case "string":
      return frame.json ? parseJsonString(frame.text, `<string encoding="json">`) : frame.text;
    case "number": {
      if (!NUMBER_TEXT.test(frame.text))
        throw invalid(`<number> holds ${JSON.stringify(frame.text)}`);
      const value = Number(frame.text);
      if (!Number.isFinite(value)) throw invalid(`<number> ${frame.text} is out of range`);
      // -0 === 0: the data model has no -0.
      return value === 0 ? 0 : value;
    }
    case "boolean":
      if (frame.text === "true") return true;
      if (frame.text === "false") return false;
      throw invalid(`<boolean> holds ${JSON.stringify(frame.text)}, not true or false`);
    case "null":
      if (frame.text !== "") throw invalid("<null> must be empty");
      return null;
  }
}

function parseJsonString(literal: string, where: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(literal);
  } catch (error) {
    throw new CodecError(ErrorCode.DICT_INVALID, `${where} is not a JSON string literal`, {
      cause: error,
    });
  }
  if (typeof parsed !== "string") throw invalid(`${where} is not a JSON string literal`);
  return parsed;
}

function isContainerElement(name: string): name is ContainerElement {
  return name === "object" || name === "array";
}

function isScalarElement(name: string): name is ScalarElement {
  return name === "string" || name === "number" || name === "boolean" || name === "null";
}

function invalid(message: string): CodecError {
  return new CodecError(ErrorCode.DICT_INVALID, message);
}
