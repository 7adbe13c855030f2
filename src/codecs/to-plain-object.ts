/**
 * The exact representation → plain JavaScript objects, for callers who need them, when
 * nothing is lost.
 */

import { CodecError, ErrorCode } from "../errors.js";
import { describeValue } from "./describe-value.js";
import type { DictObject } from "./dict-value.js";
import { setOwnProperty, type JsonObject, type JsonValue } from "./json-value.js";
import { checkDictDepth, DEFAULT_DICT_LIMITS, type DictLimits } from "./limits.js";

/**
 * Converts an exact dictionary into plain objects, arrays and numbers, refusing whatever
 * plain objects cannot hold exactly:
 * - an integer whose value no JavaScript number has (past 2^53, most of them);
 * - an object whose keys a plain object would put in another order (it moves keys such as
 *   "10" and "2" to the front, in ascending numeric order).
 *
 * A plain number cannot say whether it was an integer or a float, so that is the one thing
 * not kept: the integer 1 and the float 1.0 both become `1`. Floats keep their value, -0
 * included. Keys such as `__proto__` become ordinary own keys.
 *
 * @throws {@link CodecError} `DICT_INVALID` when a value cannot be held exactly (see above),
 *   or `value` is not a valid exact dictionary.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when it nests deeper than `limits.maxDepth`.
 */
export function toPlainObject(
  value: DictObject,
  limits: Pick<DictLimits, "maxDepth"> = DEFAULT_DICT_LIMITS,
): JsonObject {
  if (!(value instanceof Map)) {
    throw invalid(`the top level must be a Map, not ${describeValue(value)}`);
  }
  return plainObject(value, 1, limits);
}

function plainObject(
  source: Map<unknown, unknown>,
  depth: number,
  limits: Pick<DictLimits, "maxDepth">,
): JsonObject {
  checkDictDepth(depth, limits);
  const result: JsonObject = {};
  for (const [key, item] of source) {
    if (typeof key !== "string") throw invalid(`keys must be strings, not ${describeValue(key)}`);
    // Plain assignment would call the inherited __proto__ setter for that one key.
    if (key === "__proto__") setOwnProperty(result, key, plainValue(item, depth, limits));
    else result[key] = plainValue(item, depth, limits);
  }
  const keys = Object.keys(result);
  let index = 0;
  for (const key of source.keys()) {
    if (keys[index] !== key) {
      throw invalid(
        `a plain object would put key ${JSON.stringify(keys[index])} before ` +
          `${JSON.stringify(key)}, changing the order written; read the Map instead`,
      );
    }
    index++;
  }
  return result;
}

function plainValue(
  value: unknown,
  parentDepth: number,
  limits: Pick<DictLimits, "maxDepth">,
): JsonValue {
  if (value instanceof Map) return plainObject(value, parentDepth + 1, limits);
  if (Array.isArray(value)) {
    checkDictDepth(parentDepth + 1, limits);
    const array: JsonValue[] = [];
    for (let index = 0; index < value.length; index++) {
      if (!(index in value)) throw invalid("arrays must not have holes");
      array.push(plainValue(value[index], parentDepth + 1, limits));
    }
    return array;
  }
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw invalid(`floats must be finite, not ${String(value)}`);
      return value;
    case "bigint": {
      const number = Number(value);
      // Past the double range Number() gives an infinity, which BigInt() cannot take.
      if (!Number.isFinite(number) || BigInt(number) !== value) {
        throw invalid(
          `the integer ${quotedInteger(value)} has no exact JavaScript number; read it from the Map, as a bigint`,
        );
      }
      return number;
    }
    default:
      if (value === null) return null;
      throw invalid(`${describeValue(value)} is not a dictionary value`);
  }
}

/** Integers with more bits than this are described, not written out, in a message. */
const MAX_QUOTED_INTEGER_BITS = 256;

function quotedInteger(value: bigint): string {
  const bits = (value < 0n ? -value : value).toString(2).length;
  return bits <= MAX_QUOTED_INTEGER_BITS ? value.toString() : `of ${bits} bits`;
}

function invalid(message: string): CodecError {
  return new CodecError(ErrorCode.DICT_INVALID, message);
}
