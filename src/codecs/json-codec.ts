/**
 * The `json` dictionary format: compact UTF-8 JSON text whose top level is an object.
 */

import { CodecError, ErrorCode } from "../errors.js";
import { setOwnProperty, type JsonObject, type JsonValue } from "./json-value.js";
import { checkDictDepth, checkDictSize, checkDictValues, type DictLimits } from "./limits.js";
import { decodeStrictUtf8 } from "./strict-utf8.js";

const QUOTATION_MARK = 0x22; // "
const REVERSE_SOLIDUS = 0x5c; // \
const BEGIN_ARRAY = 0x5b; // [
const END_ARRAY = 0x5d; // ]
const BEGIN_OBJECT = 0x7b; // {
const END_OBJECT = 0x7d; // }
const NAME_SEPARATOR = 0x3a; // :
const VALUE_SEPARATOR = 0x2c; // ,
const SPACE = 0x20;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Encodes an already validated dictionary as compact UTF-8 JSON.
 *
 * `JSON.stringify` writes -0 as `0` (the data model's normalisation) and escapes lone
 * surrogates as `\udXXX`, so the output is always well-formed UTF-8. Callers outside this
 * folder use `encodeDict`, which validates and applies the size limit.
 */
export function encodeJsonDict(value: JsonObject): Uint8Array {
  // Buffer.from, not TextEncoder: small results come from Node's shared pool instead of
  // a fresh ArrayBuffer each (several times faster for a small dictionary).
  return Buffer.from(JSON.stringify(value), "utf8");
}

/**
 * Decodes UTF-8 JSON text whose top level is an object.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` is longer than `limits.maxBytes`
 *   (checked before anything is decoded), or the text holds more than `limits.maxValues`
 *   values (counted by a linear scan before `JSON.parse` runs, exact for valid JSON).
 * @throws {@link CodecError} `DICT_TOO_DEEP` when arrays and objects nest deeper than
 *   `limits.maxDepth` (checked by the same linear scan).
 * @throws {@link CodecError} `DICT_INVALID` for malformed UTF-8, malformed JSON, a top level
 *   that is not an object, or numbers outside the double range.
 */
export function decodeJsonDict(bytes: Uint8Array, limits: DictLimits): JsonObject {
  checkDictSize(bytes.byteLength, limits);
  const text = decodeStrictUtf8(bytes);
  checkJsonStructure(text, limits);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CodecError(ErrorCode.DICT_INVALID, "dictionary is not valid JSON", {
      cause: error,
    });
  }
  // JSON.parse creates "__proto__" as an own key (CreateDataProperty), so no prototype is
  // touched. Numbers too large for a double parse as Infinity, which is refused here.
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CodecError(ErrorCode.DICT_INVALID, "the top level must be an object");
  }
  checkParsedNumbers(parsed as JsonObject);
  return parsed as JsonObject;
}

/**
 * Checks, in place, the numbers of a tree that JSON.parse built: every one must be
 * finite, and -0 becomes 0 (the data model's normalisation). Nothing else needs checking
 * or copying: JSON.parse makes only plain objects, arrays and JSON scalars, with own
 * data properties, and {@link checkJsonStructure} has already bounded its depth and
 * size, so the recursion here is bounded too.
 */
function checkParsedNumbers(container: JsonObject | JsonValue[]): void {
  if (Array.isArray(container)) {
    for (let index = 0; index < container.length; index++) {
      const item = container[index];
      if (typeof item === "number") {
        if (!Number.isFinite(item)) throw notFinite(item);
        if (Object.is(item, -0)) container[index] = 0;
      } else if (typeof item === "object" && item !== null) checkParsedNumbers(item);
    }
    return;
  }
  for (const key of Object.keys(container)) {
    const item = container[key];
    if (typeof item === "number") {
      if (!Number.isFinite(item)) throw notFinite(item);
      if (Object.is(item, -0)) setOwnProperty(container, key, 0);
    } else if (typeof item === "object" && item !== null) checkParsedNumbers(item);
  }
}

function notFinite(value: number): CodecError {
  return new CodecError(
    ErrorCode.DICT_INVALID,
    `numbers must be finite, not ${String(value)} (too large for a double)`,
  );
}

/**
 * Refuses text whose brackets nest deeper than the limit, or that holds more values than
 * the limit, without parsing it.
 *
 * One pass with constant memory, outside string literals: `[` and `{` count depth and one
 * value each; every string counts one value and every `:` takes one back (it follows a key,
 * and keys are not values); every run of other non-whitespace characters (a number, `true`,
 * `false`, `null`) counts one value. So a million-deep input, or 16 MiB of `{},`, fails here
 * quickly instead of making JSON.parse build millions of containers.
 *
 * On valid JSON both counts are exact, and the running value count never exceeds the final
 * one (a key is counted before its `:`, but a value always follows it), so refusing as soon
 * as it goes over never refuses a dictionary within the limits. On invalid JSON the counts
 * may be off, but then JSON.parse refuses the text anyway.
 */
function checkJsonStructure(
  text: string,
  limits: Pick<DictLimits, "maxDepth" | "maxValues">,
): void {
  let depth = 0;
  let values = 0;
  let inString = false;
  let escaped = false;
  let inBareToken = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (escaped) escaped = false;
      else if (code === REVERSE_SOLIDUS) escaped = true;
      else if (code === QUOTATION_MARK) inString = false;
      continue;
    }
    if (code === QUOTATION_MARK) {
      inString = true;
      inBareToken = false;
      values++;
      checkDictValues(values, limits);
    } else if (code === BEGIN_OBJECT || code === BEGIN_ARRAY) {
      inBareToken = false;
      depth++;
      checkDictDepth(depth, limits);
      values++;
      checkDictValues(values, limits);
    } else if (code === NAME_SEPARATOR) {
      inBareToken = false;
      values--;
    } else if (code === END_OBJECT || code === END_ARRAY) {
      inBareToken = false;
      depth--;
    } else if (
      code === VALUE_SEPARATOR ||
      code === SPACE ||
      code === TAB ||
      code === LINE_FEED ||
      code === CARRIAGE_RETURN
    ) {
      inBareToken = false;
    } else if (!inBareToken) {
      inBareToken = true;
      values++;
      checkDictValues(values, limits);
    }
  }
}
