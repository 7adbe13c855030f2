/**
 * The `json` dictionary format ([C-JSON]): compact UTF-8 JSON text, without a byte-order
 * mark, whose top level is an object. Also the parser for dictionaries users type in.
 */

import { dictJsonText } from "./dict-json-text.js";
import type { DictObject } from "./dict-value.js";
import { parseJsonText } from "./json-parser.js";
import { checkDictSize, DEFAULT_DICT_LIMITS, type DictLimits } from "./limits.js";
import { decodeStrictUtf8 } from "./strict-utf8.js";

/**
 * Encodes an already checked exact dictionary as compact UTF-8 JSON. Callers outside this
 * folder use `encodeDict`, which checks the tree and applies the size limit.
 */
export function encodeJsonDict(value: DictObject): Uint8Array {
  // Buffer.from, not TextEncoder: small results come from Node's shared pool instead of
  // a fresh ArrayBuffer each (several times faster for a small dictionary).
  return Buffer.from(dictJsonText(value), "utf8");
}

/**
 * Decodes UTF-8 JSON text whose top level is an object, as sent on the wire.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` is longer than `limits.maxBytes`
 *   (checked before anything is decoded), or a value beyond `limits.maxValues` starts.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when a container opens deeper than
 *   `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_INVALID` for malformed UTF-8; and, as a
 *   {@link DictTextError} with the position, for a byte-order mark ([C-BOM]), malformed
 *   JSON, a top level that is not an object, a duplicate key ([C-DUP]), or a number beyond
 *   the double range ([C-FINITE]).
 */
export function decodeJsonDict(bytes: Uint8Array, limits: DictLimits): DictObject {
  checkDictSize(bytes.byteLength, limits);
  // The mark is kept, so that the parser sees it and refuses it.
  const text = decodeStrictUtf8(bytes, { keepByteOrderMark: true });
  return parseJsonText(text, limits, { allowByteOrderMark: false });
}

/**
 * Parses a dictionary a user typed as JSON text (a file): the grammar and exactness of the
 * `json` wire format (members in order, integers of any size as bigints, floats as numbers,
 * duplicate keys and numbers beyond the double range refused), except that a leading
 * byte-order mark is allowed, as editors on Windows write one.
 *
 * A {@link DictTextError} carries the `position` (line and column from 1, and the offset)
 * of the problem, so that a program can show the line and point at the column.
 *
 * @param limits - the depth and value-count limits; the text's length is not limited here
 *   (white space and escapes make it longer than what is sent), the encoded form is.
 * @throws {@link DictTextError} (`DICT_INVALID`) for invalid JSON, a top level that is not an
 *   object, a duplicate key, a number beyond the double range.
 * @throws {@link CodecError} `DICT_TOO_DEEP` or `DICT_TOO_LARGE` beyond `limits`.
 */
export function parseDictJson(
  text: string,
  limits: Pick<DictLimits, "maxDepth" | "maxValues"> = DEFAULT_DICT_LIMITS,
): DictObject {
  return parseJsonText(text, limits, { allowByteOrderMark: true });
}
