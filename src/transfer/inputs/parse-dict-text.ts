import type { JsonObject } from "../../codecs/json-value.js";
import { validateJsonObject } from "../../codecs/json-value.js";
import { DEFAULT_DICT_LIMITS, type DictLimits } from "../../codecs/limits.js";
import { DictTextError } from "./dict-text-error.js";

/**
 * Parses the JSON text of a dictionary input (a file the user named, or standard input)
 * into a dictionary. Every dictionary input is parsed here and nowhere else, so the
 * parser and the dictionary's representation change in one place.
 *
 * @param input the input as it was named, for messages.
 * @throws {DictTextError} DICT_INVALID when `text` is not JSON.
 * @throws {CodecError} DICT_INVALID when it is JSON but not an object;
 *   DICT_TOO_DEEP / DICT_TOO_LARGE when it is over `limits`.
 */
export function parseDictText(
  text: string,
  input: string,
  limits: DictLimits = DEFAULT_DICT_LIMITS,
): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new DictTextError(input, `${input} is not valid JSON: ${detail}`, { cause: error });
  }
  return validateJsonObject(parsed, limits);
}
