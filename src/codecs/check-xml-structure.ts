/**
 * A quick pass over an XML dictionary, before the parser builds anything: it refuses an
 * element with too many attributes and a document with too many namespace declarations
 * ([C-XML-ATTRS], [C-XML-NS]: the parser builds all of an element's attributes, and a
 * namespace map for its declarations, before it reports the element), and, in a large
 * document, too many elements or containers nested too deeply (16 MiB of `<object/>`
 * would otherwise make it build a million maps before the limit is reached).
 */

import { CodecError, ErrorCode } from "../errors.js";
import { checkDictDepth, checkDictValues, type DictLimits } from "./limits.js";

/**
 * [C-XML-ATTRS] Most attributes one element may have, namespace declarations included:
 * a valid element needs at most three (`key` or `key-json`, `encoding`, a declaration).
 */
export const MAX_XML_ATTRIBUTES = 8;
/**
 * [C-XML-NS] Most namespace declarations one document may hold: an encoder needs one, on
 * the root element.
 */
export const MAX_XML_NAMESPACE_DECLARATIONS = 64;

/** The shortest element, `<a/>`: text this many times the value limit may hold too many. */
export const MIN_ELEMENT_CHARS = 4;

const COMMENT_START = "<!--";
const COMMENT_END = "-->";
const CDATA_START = "<![CDATA[";
const CDATA_END = "]]>";
const INSTRUCTION_END = "?>";

const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;
const SOLIDUS = 0x2f;
const EXCLAMATION_MARK = 0x21;
const QUESTION_MARK = 0x3f;
const QUOTATION_MARK = 0x22;
const APOSTROPHE = 0x27;
const COLON = 0x3a;
const EQUALS_SIGN = 0x3d;
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Elements that count towards the depth ([C-DEPTH]): the containers. */
const CONTAINERS = ["dict", "object", "array"] as const;

/**
 * Counts each element's attributes and the document's namespace declarations and, when
 * `counts` is set, elements (every element is one value) and the nesting of `dict`,
 * `object` and `array` as the decoder does, in the same order, skipping comments, CDATA
 * sections and processing instructions, and refuses at the first element over a limit.
 *
 * It reads well-formed XML exactly. Anything it does not understand (a DOCTYPE, markup
 * that is not well-formed) ends the pass without a verdict: the parser then refuses the
 * document for what it is. On a document that is not valid, it may find a limit exceeded
 * where the parser would have found the document invalid first.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` or `DICT_TOO_DEEP`; `DICT_INVALID` for too
 *   many attributes or namespace declarations.
 */
export function checkXmlStructure(
  text: string,
  limits: Pick<DictLimits, "maxDepth" | "maxValues">,
  counts = true,
): void {
  let values = 0;
  let depth = 0;
  let namespaces = 0;
  let position = text.indexOf("<");
  while (position >= 0) {
    const next = text.charCodeAt(position + 1);
    let resume: number;
    if (next === EXCLAMATION_MARK) {
      if (text.startsWith(COMMENT_START, position)) {
        resume = after(text, COMMENT_END, position + COMMENT_START.length);
      } else if (text.startsWith(CDATA_START, position)) {
        resume = after(text, CDATA_END, position + CDATA_START.length);
      } else return;
    } else if (next === QUESTION_MARK) {
      resume = after(text, INSTRUCTION_END, position + 2);
    } else if (next === SOLIDUS) {
      const end = text.indexOf(">", position);
      if (end < 0) return;
      if (counts && isContainer(text, position + 2)) depth--;
      resume = end + 1;
    } else {
      const tag = scanStartTag(text, position + 1);
      if (tag === undefined) return;
      namespaces += tag.namespaces;
      // [C-XML-NS] before [C-XML-ATTRS]: a root element declaring namespaces by the
      // hundred thousand is refused for what it does.
      if (namespaces > MAX_XML_NAMESPACE_DECLARATIONS) {
        throw new CodecError(
          ErrorCode.DICT_INVALID,
          `the document declares more than ${MAX_XML_NAMESPACE_DECLARATIONS} namespaces`,
        );
      }
      if (tag.attributes > MAX_XML_ATTRIBUTES) {
        throw new CodecError(
          ErrorCode.DICT_INVALID,
          `an element has more than ${MAX_XML_ATTRIBUTES} attributes`,
        );
      }
      const end = tag.end;
      if (counts) {
        const selfClosing = text.charCodeAt(end - 1) === SOLIDUS;
        // As the decoder: a container's depth is checked before it is counted.
        if (isContainer(text, position + 1)) {
          if (!selfClosing) depth++;
          checkDictDepth(selfClosing ? depth + 1 : depth, limits);
        }
        values++;
        checkDictValues(values, limits);
      }
      resume = end + 1;
    }
    if (resume < 0) return;
    position = text.indexOf("<", resume);
  }
}

/** The position after the first `marker` from `from`, or -1. */
function after(text: string, marker: string, from: number): number {
  const at = text.indexOf(marker, from);
  return at < 0 ? -1 : at + marker.length;
}

/** Whether the name at `start`, without its prefix, is a container's. */
function isContainer(text: string, start: number): boolean {
  let end = start;
  let localStart = start;
  for (;;) {
    const code = text.charCodeAt(end);
    if (
      Number.isNaN(code) ||
      code === SPACE ||
      code === TAB ||
      code === LINE_FEED ||
      code === CARRIAGE_RETURN ||
      code === SOLIDUS ||
      code === GREATER_THAN
    ) {
      break;
    }
    if (code === COLON) localStart = end + 1;
    end++;
  }
  const length = end - localStart;
  return CONTAINERS.some((name) => name.length === length && text.startsWith(name, localStart));
}

/** A start tag as the pre-scan reads it: where it ends, what it declares. */
interface StartTag {
  /** The position of its `>`. */
  readonly end: number;
  readonly attributes: number;
  /** Attributes named `xmlns` or `xmlns:…`. */
  readonly namespaces: number;
}

/**
 * Reads the start tag whose name begins at `from`: its name, then attributes
 * (`name = "value"` or `'value'`, white space allowed around `=`), up to `>` or `/>`.
 * Undefined when it is not that shape (the parser will say why).
 */
function scanStartTag(text: string, from: number): StartTag | undefined {
  let position = skipName(text, from);
  let attributes = 0;
  let namespaces = 0;
  for (;;) {
    const afterSpace = skipSpace(text, position);
    const code = text.charCodeAt(afterSpace);
    if (code === GREATER_THAN) return { end: afterSpace, attributes, namespaces };
    if (code === SOLIDUS) {
      return text.charCodeAt(afterSpace + 1) === GREATER_THAN
        ? { end: afterSpace + 1, attributes, namespaces }
        : undefined;
    }
    // An attribute must be separated from what precedes it by white space.
    if (afterSpace === position || Number.isNaN(code)) return undefined;
    const nameEnd = skipName(text, afterSpace);
    if (nameEnd === afterSpace) return undefined;
    const equals = skipSpace(text, nameEnd);
    if (text.charCodeAt(equals) !== EQUALS_SIGN) return undefined;
    const open = skipSpace(text, equals + 1);
    const quote = text.charCodeAt(open);
    if (quote !== QUOTATION_MARK && quote !== APOSTROPHE) return undefined;
    const close = text.indexOf(String.fromCharCode(quote), open + 1);
    // A `<` may not stand in an attribute value (XML 1.0 section 3.1).
    if (close < 0 || text.slice(open + 1, close).includes("<")) return undefined;
    attributes++;
    if (isNamespaceDeclaration(text, afterSpace, nameEnd)) namespaces++;
    position = close + 1;
  }
}

/** `xmlns` or `xmlns:prefix`. */
function isNamespaceDeclaration(text: string, start: number, end: number): boolean {
  if (!text.startsWith("xmlns", start)) return false;
  return end === start + 5 || text.charCodeAt(start + 5) === COLON;
}

function isSpace(code: number): boolean {
  return code === SPACE || code === TAB || code === LINE_FEED || code === CARRIAGE_RETURN;
}

function skipSpace(text: string, from: number): number {
  let position = from;
  while (isSpace(text.charCodeAt(position))) position++;
  return position;
}

/** The end of the name at `from`: up to white space, `=`, `/`, `>` or the end. */
function skipName(text: string, from: number): number {
  let position = from;
  for (;;) {
    const code = text.charCodeAt(position);
    if (
      Number.isNaN(code) ||
      isSpace(code) ||
      code === EQUALS_SIGN ||
      code === SOLIDUS ||
      code === GREATER_THAN ||
      code === LESS_THAN
    ) {
      return position;
    }
    position++;
  }
}
