/**
 * A quick pass over a large XML dictionary that refuses too many elements, or containers
 * nested too deeply, before the parser builds anything: 16 MiB of `<object/>` would
 * otherwise make it build a million maps before the limit is reached.
 */

import { checkDictDepth, checkDictValues, type DictLimits } from "./limits.js";

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
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Elements that count towards the depth ([C-DEPTH]): the containers. */
const CONTAINERS = ["dict", "object", "array"] as const;

/**
 * Counts elements (every element is one value) and the nesting of `dict`, `object` and
 * `array` as the decoder does, in the same order, skipping comments, CDATA sections and
 * processing instructions, and refuses at the first element over a limit.
 *
 * It reads well-formed XML exactly. Anything it does not understand (a DOCTYPE, markup
 * that is not well-formed) ends the pass without a verdict: the parser then refuses the
 * document for what it is. On a document that is not valid, it may find a limit exceeded
 * where the parser would have found the document invalid first.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` or `DICT_TOO_DEEP`.
 */
export function checkXmlStructure(
  text: string,
  limits: Pick<DictLimits, "maxDepth" | "maxValues">,
): void {
  let values = 0;
  let depth = 0;
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
      if (isContainer(text, position + 2)) depth--;
      resume = end + 1;
    } else {
      const end = tagEnd(text, position + 1);
      if (end < 0) return;
      const selfClosing = text.charCodeAt(end - 1) === SOLIDUS;
      // As the decoder: a container's depth is checked before it is counted.
      if (isContainer(text, position + 1)) {
        if (!selfClosing) depth++;
        checkDictDepth(selfClosing ? depth + 1 : depth, limits);
      }
      values++;
      checkDictValues(values, limits);
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

/** The position of the `>` ending the start tag begun before `from`, or -1. */
function tagEnd(text: string, from: number): number {
  let position = from;
  for (;;) {
    const code = text.charCodeAt(position);
    if (Number.isNaN(code) || code === LESS_THAN) return -1;
    if (code === GREATER_THAN) return position;
    // A `>` may stand in an attribute value; a `<` may not (XML 1.0 section 3.1).
    if (code === QUOTATION_MARK || code === APOSTROPHE) {
      const close = text.indexOf(String.fromCharCode(code), position + 1);
      if (close < 0) return -1;
      position = close;
    }
    position++;
  }
}
