/**
 * The entry point of the codecs: a dictionary to bytes and back in a chosen wire format.
 */

import { copyDictObject } from "./copy-dict-object.js";
import { dictJsonText } from "./dict-json-text.js";
import { isDictObject, type DictObject } from "./dict-value.js";
import { decodeJsonDict } from "./json-codec.js";
import type { JsonObject } from "./json-value.js";
import { checkDictSize, DEFAULT_DICT_LIMITS, type DictLimits } from "./limits.js";
import { decodeMsgpackDict } from "./msgpack-decoder.js";
import { encodeMsgpackDict } from "./msgpack-encoder.js";
import { checkJsonObject, plainTreeToDictObject } from "./to-dict-object.js";
import { decodeXmlDict } from "./xml-decoder.js";
import { encodeXmlDict } from "./xml-encoder.js";

/** The wire formats a dictionary can travel in, by their protocol names. */
export const DICT_FORMATS = ["json", "msgpack", "xml"] as const;

/** One of {@link DICT_FORMATS}. */
export type DictFormat = (typeof DICT_FORMATS)[number];

/** True when `value` names a dictionary format. */
export function isDictFormat(value: unknown): value is DictFormat {
  return DICT_FORMATS.some((format) => format === value);
}

/**
 * Encodes a dictionary in `format`.
 *
 * `value` is either exact (a {@link DictObject}: members in the order written, integers as
 * bigints, floats as numbers) or plain (a {@link JsonObject}, converted as `toDictObject`
 * does: a safe integer other than -0 is an integer, any other number a float). Either way it
 * is checked first, because it may come from a user's file rather than from this program.
 *
 * @throws {@link CodecError} `DICT_INVALID` when `value` is not a valid dictionary, or (msgpack
 *   only) an integer is outside −2^63 .. 2^64 − 1 or a string or key holds a lone surrogate.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when a container is deeper than
 *   `limits.maxDepth` ([C-DEPTH]).
 * @throws {@link CodecError} `DICT_TOO_LARGE` when it holds more than `limits.maxValues`
 *   values (checked before encoding), or the encoding exceeds `limits.maxBytes`.
 */
export function encodeDict(
  value: DictObject | JsonObject,
  format: DictFormat,
  limits: DictLimits = DEFAULT_DICT_LIMITS,
): Uint8Array {
  let bytes: Uint8Array;
  switch (format) {
    case "json":
      bytes = Buffer.from(encodeJsonDictText(value, limits), "utf8");
      break;
    case "msgpack":
      bytes = encodeMsgpackDict(ownDictObject(value, limits));
      break;
    case "xml":
      bytes = encodeXmlDict(ownDictObject(value, limits));
      break;
  }
  checkDictSize(bytes.byteLength, limits);
  return bytes;
}

/**
 * {@link encodeDict} for the `json` format, as text: a writer that encodes it in place
 * (as UTF-8) needs no buffer of its own. Same checks and errors as {@link encodeDict}.
 */
export function encodeJsonDictText(
  value: DictObject | JsonObject,
  limits: DictLimits = DEFAULT_DICT_LIMITS,
): string {
  let text: string;
  // A plain tree whose numbers JSON.stringify writes as the format does is written by it,
  // at native speed, without a copy.
  if (!isDictObject(value) && checkJsonObject(value, limits)) text = JSON.stringify(value);
  else text = dictJsonText(ownDictObject(value, limits));
  // Each UTF-16 unit is at most 3 UTF-8 bytes: most dictionaries need no exact count.
  if (text.length * 3 > limits.maxBytes) checkDictSize(Buffer.byteLength(text, "utf8"), limits);
  return text;
}

/**
 * A checked copy of `value` that nothing outside can change while an encoder reads it: a
 * {@link DictObject} is copied, a plain tree converted.
 */
function ownDictObject(value: unknown, limits: DictLimits): DictObject {
  return isDictObject(value) ? copyDictObject(value, limits) : plainTreeToDictObject(value, limits);
}

/**
 * Decodes a dictionary received in `format`, into the exact representation: members in the
 * order written, integers as bigints of any size, floats as numbers. Keys such as
 * `__proto__` are ordinary keys.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` exceeds `limits.maxBytes` (checked
 *   before parsing), or holds more than `limits.maxValues` values (refused before the value
 *   over the limit is built).
 * @throws {@link CodecError} `DICT_TOO_DEEP` when a container opens deeper than
 *   `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_INVALID` when the bytes are not a valid dictionary in
 *   `format`.
 */
export function decodeDict(
  bytes: Uint8Array,
  format: DictFormat,
  limits: DictLimits = DEFAULT_DICT_LIMITS,
): DictObject {
  switch (format) {
    case "json":
      return decodeJsonDict(bytes, limits);
    case "msgpack":
      return decodeMsgpackDict(bytes, limits);
    case "xml":
      return decodeXmlDict(bytes, limits);
  }
}
