/**
 * The entry point of the codecs: a dictionary to bytes and back in a chosen wire format.
 */

import { decodeJsonDict, encodeJsonDict } from "./json-codec.js";
import { checkJsonObject, validateJsonObject, type JsonObject } from "./json-value.js";
import { checkDictSize, DEFAULT_DICT_LIMITS, type DictLimits } from "./limits.js";
import { decodeMsgpackDict, encodeMsgpackDict } from "./msgpack-codec.js";
import { decodeXmlDict, encodeXmlDict } from "./xml-codec.js";

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
 * The value is validated first, because it may come from a user's file rather than from
 * this program: see `validateJsonObject` for what is accepted. -0 is encoded as 0.
 *
 * @throws {@link CodecError} `DICT_INVALID` when `value` is not a JSON object tree, or (msgpack
 *   only) a string or key holds a lone surrogate.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when it nests deeper than `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_TOO_LARGE` when it holds more than `limits.maxValues`
 *   values (checked before encoding), or the encoding exceeds `limits.maxBytes`.
 */
export function encodeDict(
  value: JsonObject,
  format: DictFormat,
  limits: DictLimits = DEFAULT_DICT_LIMITS,
): Uint8Array {
  let bytes: Uint8Array;
  switch (format) {
    case "json":
      // JSON.stringify reads the tree once, now, and writes -0 as 0: nothing to copy.
      checkJsonObject(value, limits);
      bytes = encodeJsonDict(value);
      break;
    case "msgpack":
      bytes = encodeMsgpackDict(validateJsonObject(value, limits), limits);
      break;
    case "xml":
      bytes = encodeXmlDict(validateJsonObject(value, limits));
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
  value: JsonObject,
  limits: DictLimits = DEFAULT_DICT_LIMITS,
): string {
  checkJsonObject(value, limits);
  const text = JSON.stringify(value);
  // Each UTF-16 unit is at most 3 UTF-8 bytes: most dictionaries need no exact count.
  if (text.length * 3 > limits.maxBytes) checkDictSize(Buffer.byteLength(text, "utf8"), limits);
  return text;
}

/**
 * Decodes a dictionary received in `format`. The result is a fresh plain object tree; keys
 * such as `__proto__` are ordinary own keys and no prototype is ever modified.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` exceeds `limits.maxBytes` (checked
 *   before parsing), or holds more than `limits.maxValues` values (refused before they are
 *   all built).
 * @throws {@link CodecError} `DICT_TOO_DEEP` when it nests deeper than `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_INVALID` when the bytes are not a valid dictionary in
 *   `format`.
 */
export function decodeDict(
  bytes: Uint8Array,
  format: DictFormat,
  limits: DictLimits = DEFAULT_DICT_LIMITS,
): JsonObject {
  switch (format) {
    case "json":
      return decodeJsonDict(bytes, limits);
    case "msgpack":
      return decodeMsgpackDict(bytes, limits);
    case "xml":
      return decodeXmlDict(bytes, limits);
  }
}
