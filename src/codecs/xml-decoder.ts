/**
 * The `xml` format's decoder ([C-XML]). It is strict: it refuses DOCTYPEs (so no entity can
 * ever be declared or expanded), processing instructions, unknown elements and attributes,
 * and text where an element belongs. The rules are listed on {@link decodeXmlDict}.
 */

import { createRequire } from "node:module";
import type * as Saxes from "saxes";
import type { SaxesTagNS, XMLDecl } from "saxes";
import { CodecError, ErrorCode } from "../errors.js";
import { checkXmlStructure, MIN_ELEMENT_CHARS } from "./check-xml-structure.js";
import { parseNumberText } from "./dict-number.js";
import type { DictObject, DictValue } from "./dict-value.js";
import { parseJsonStringLiteral } from "./json-parser.js";
import { checkDictDepth, checkDictSize, checkDictValues, type DictLimits } from "./limits.js";
import { decodeStrictUtf8 } from "./strict-utf8.js";
import {
  DICT_XML_NAMESPACE,
  ENCODING_ATTRIBUTE,
  isContainerElement,
  isScalarElement,
  JSON_ENCODING,
  KEY_ATTRIBUTE,
  KEY_JSON_ATTRIBUTE,
  ROOT_ELEMENT,
  type ContainerElement,
  type ScalarElement,
} from "./xml-vocabulary.js";

/** Namespace declarations (`xmlns`, `xmlns:p`) are reported as attributes in this namespace. */
const XMLNS_NAMESPACE = "http://www.w3.org/2000/xmlns/";
/** The XML whitespace production S: space, tab, CR, LF. */
const XML_WHITESPACE = /^[ \t\r\n]*$/;

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
 *   (exactly one JSON string literal, no white space around it, whose value is the key:
 *   [C-XML-JSONSTR]). Keys are unique within one object ([C-DUP]). Children of `array` have
 *   neither. Order is kept ([C-ORDER]).
 * - `object` and `array` contain only child elements, comments and whitespace. A `dict`,
 *   `object` or `array` deeper than `limits.maxDepth` is DICT_TOO_DEEP, refused as it opens
 *   ([C-DEPTH]; `dict` is depth 1).
 * - Every element is one value (`dict` included); the element that makes more than
 *   `limits.maxValues` of them is DICT_TOO_LARGE, refused as it opens.
 * - `string`: its text, exactly (whitespace included). With `encoding="json"` (the only
 *   allowed value, and only on `string`) the text is exactly one JSON string literal whose
 *   value is the string ([C-XML-JSONSTR]). `number`: text matching the JSON number grammar,
 *   an integer (bigint, any size: [C-INT]) when it has neither fraction nor exponent, else a
 *   float that must be finite ([C-FLOAT], [C-FINITE]); `-0` is the integer zero, `-0.0` the
 *   float negative zero. `boolean`: `true` or `false`. `null`: empty. None of these contain
 *   elements; `number`, `boolean` and `null` allow no surrounding whitespace.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` is longer than `limits.maxBytes`
 *   (checked before anything is decoded), or it holds more than `limits.maxValues` values.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when containers nest deeper than `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_INVALID` for malformed UTF-8 or XML and any rule above.
 */
export function decodeXmlDict(bytes: Uint8Array, limits: DictLimits): DictObject {
  checkDictSize(bytes.byteLength, limits);
  const text = decodeStrictUtf8(bytes);
  // [C-XML-ATTRS] [C-XML-NS] always; [C-LIMITS] only text this long can hold more
  // elements than the limit allows.
  checkXmlStructure(text, limits, text.length > MIN_ELEMENT_CHARS * limits.maxValues);
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
  | { readonly kind: "object"; readonly depth: number; readonly value: DictObject }
  | { readonly kind: "array"; readonly depth: number; readonly value: DictValue[] }
  | { readonly kind: ScalarElement; readonly json: boolean; text: string }
) & {
  /** The key in the parent object; undefined in an array and for the root. */
  readonly key: string | undefined;
};

/** Builds the dictionary from parser events, enforcing the schema as it goes. */
class DictBuilder {
  private readonly stack: Frame[] = [];
  private root: DictObject | undefined;
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
      this.stack.push({ kind: "object", depth: 1, value: new Map(), key: undefined });
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
          ? { kind: "object", depth, value: new Map(), key }
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
      parent.value.set(frame.key, value);
    } else {
      // open() guarantees containers as parents and keys for object children.
      throw invalid("element in an impossible position");
    }
  }

  result(): DictObject {
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
  // [C-DUP] however the key is spelt (key or key-json).
  if (parent.value.has(key)) throw invalid(`duplicate key ${JSON.stringify(key)}`);
  return key;
}

function frameValue(frame: Frame): DictValue {
  switch (frame.kind) {
    case "object":
    case "array":
      return frame.value;
    case "string":
      return frame.json ? parseJsonString(frame.text, `<string encoding="json">`) : frame.text;
    case "number":
      return parseNumberText(frame.text);
    case "boolean":
      if (frame.text === "true") return true;
      if (frame.text === "false") return false;
      throw invalid(`<boolean> holds ${JSON.stringify(frame.text)}, not true or false`);
    case "null":
      if (frame.text !== "") throw invalid("<null> must be empty");
      return null;
  }
}

/** [C-XML-JSONSTR] exactly one JSON string literal: no white space before or after it. */
function parseJsonString(literal: string, where: string): string {
  try {
    return parseJsonStringLiteral(literal);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new CodecError(
      ErrorCode.DICT_INVALID,
      `${where} is not exactly one JSON string literal: ${detail}`,
      { cause: error },
    );
  }
}

function invalid(message: string): CodecError {
  return new CodecError(ErrorCode.DICT_INVALID, message);
}
