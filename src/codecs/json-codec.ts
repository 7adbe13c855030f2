/**
 * The `json` dictionary format: compact UTF-8 JSON text whose top level is an object.
 */

import { CodecError, ErrorCode } from "../errors.js";
import { validateJsonObject, type JsonObject } from "./json-value.js";
import { checkDictDepth, checkDictSize, type DictLimits } from "./limits.js";
import { decodeStrictUtf8 } from "./strict-utf8.js";

const QUOTATION_MARK = 0x22; // "
const REVERSE_SOLIDUS = 0x5c; // \
const BEGIN_ARRAY = 0x5b; // [
const END_ARRAY = 0x5d; // ]
const BEGIN_OBJECT = 0x7b; // {
const END_OBJECT = 0x7d; // }

const utf8Encoder = new TextEncoder();

/**
 * Encodes an already validated dictionary as compact UTF-8 JSON.
 *
 * `JSON.stringify` writes -0 as `0` (the data model's normalisation) and escapes lone
 * surrogates as `\udXXX`, so the output is always well-formed UTF-8. Callers outside this
 * folder use `encodeDict`, which validates and applies the size limit.
 */
export function encodeJsonDict(value: JsonObject): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(value));
}

/**
 * Decodes UTF-8 JSON text whose top level is an object.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` is longer than `limits.maxBytes`
 *   (checked before anything is decoded).
 * @throws {@link CodecError} `DICT_TOO_DEEP` when arrays and objects nest deeper than
 *   `limits.maxDepth` (checked by a linear scan before `JSON.parse` runs).
 * @throws {@link CodecError} `DICT_INVALID` for malformed UTF-8, malformed JSON, a top level
 *   that is not an object, or numbers outside the double range.
 */
export function decodeJsonDict(bytes: Uint8Array, limits: DictLimits): JsonObject {
  checkDictSize(bytes.byteLength, limits);
  const text = decodeStrictUtf8(bytes);
  checkJsonNesting(text, limits);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CodecError(ErrorCode.DICT_INVALID, "dictionary is not valid JSON", {
      cause: error,
    });
  }
  // JSON.parse creates "__proto__" as an own key (CreateDataProperty), and validation copies
  // it the same way, so no prototype is touched. Numbers too large for a double parse as
  // Infinity, which validation refuses.
  return validateJsonObject(parsed, limits);
}

/**
 * Refuses text whose brackets nest deeper than the limit, without parsing it.
 *
 * It counts `[` and `{` outside string literals in one pass with constant memory, so a
 * million-deep input fails here quickly instead of making JSON.parse build a million
 * containers. On valid JSON the count is exact; on invalid JSON it may be off, but then
 * JSON.parse refuses the text anyway.
 */
function checkJsonNesting(text: string, limits: Pick<DictLimits, "maxDepth">): void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (escaped) escaped = false;
      else if (code === REVERSE_SOLIDUS) escaped = true;
      else if (code === QUOTATION_MARK) inString = false;
    } else if (code === QUOTATION_MARK) {
      inString = true;
    } else if (code === BEGIN_OBJECT || code === BEGIN_ARRAY) {
      depth++;
      checkDictDepth(depth, limits);
    } else if (code === END_OBJECT || code === END_ARRAY) {
      depth--;
    }
  }
}
