/**
 * Plain JavaScript objects → the exact representation, for callers who hold plain objects.
 */

import { types } from "node:util";
import { CodecError, ErrorCode, InternalError } from "../errors.js";
import { describeValue as describe } from "./describe-value.js";
import type { DictObject, DictValue } from "./dict-value.js";
import type { JsonObject } from "./json-value.js";
import { checkDictDepth, checkDictValues, DEFAULT_DICT_LIMITS, type DictLimits } from "./limits.js";

/**
 * Numbers from 1e21 up are written by `JSON.stringify` (like `String`) with an exponent, so
 * they already read back as floats; integral doubles below it and beyond 2^53 are written as
 * bare digits, which would read back as integers.
 */
const FIRST_EXPONENT_WRITTEN = 1e21;

type WalkLimits = Pick<DictLimits, "maxDepth" | "maxValues">;

/**
 * Whether a plain number stands for an INTEGER: a safe integer (|n| ≤ 2^53 − 1), other than
 * -0. Past 2^53 a double is the rounded value of many integers, so it stands for a FLOAT,
 * like every other number: -0, fractions, and integral doubles such as 1e300. A caller who
 * means a larger integer passes a bigint in a {@link DictObject}.
 */
function isPlainInteger(value: number): boolean {
  return Number.isSafeInteger(value) && !Object.is(value, -0);
}

/**
 * Converts a plain JSON object tree into the exact representation: each object becomes a
 * {@link DictObject} in the object's own key order (a plain object has already moved keys
 * such as "10" to the front: that order is the one it has); a number that is a safe integer
 * other than -0 becomes an INTEGER (bigint), any other number a FLOAT.
 *
 * Accepted: null, booleans, finite numbers, strings, dense arrays, and objects whose
 * prototype is `Object.prototype` or null, with enumerable string-keyed data properties
 * (symbol keys and non-enumerable properties are dropped, as `JSON.stringify` does). Keys
 * such as `__proto__` are ordinary keys.
 *
 * @param limits - `maxDepth` bounds the nesting ([C-DEPTH]); `maxValues` the number of values.
 * @throws {@link CodecError} `DICT_INVALID` for anything else: `undefined`, NaN, Infinity,
 *   bigint, functions, symbols, `Uint8Array`, `Map`, `Date`, class instances, accessor
 *   properties, sparse arrays.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when a container is deeper than `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_TOO_LARGE` when it holds more than `limits.maxValues` values.
 */
export function toDictObject(
  value: JsonObject,
  limits: WalkLimits = DEFAULT_DICT_LIMITS,
): DictObject {
  return plainTreeToDictObject(value, limits);
}

/**
 * {@link toDictObject} for a value of unknown type (a parsed file, a caller's argument): the
 * same checks, the same result and errors.
 */
export function plainTreeToDictObject(value: unknown, limits: WalkLimits): DictObject {
  if (!isPlainObject(value)) {
    throw invalid(`the top level must be an object, not ${describe(value)}`);
  }
  const result = new PlainTreeWalker(limits, true).object(value, 1);
  if (!(result instanceof Map)) {
    throw new InternalError(ErrorCode.INTERNAL, "the converted dictionary is not a map");
  }
  return result;
}

/**
 * Checks, like {@link toDictObject}, that `value` is a plain JSON object tree, without
 * converting it: for the `json` format's fast path, where `JSON.stringify` then reads the
 * caller's objects once, at once. Since it reads the caller's own objects again, anything
 * that could make it read something other than what was checked is refused as well:
 * proxies, array subclasses, arrays with a `toJSON` of their own, and accessor elements.
 *
 * @returns true when `JSON.stringify` writes the tree exactly as the `json` format does
 *   ([C-INT], [C-FLOAT]); false when a number needs writing otherwise (-0 is written `-0.0`,
 *   and an integral double past 2^53 is a float, written with `.0`).
 * @throws {@link CodecError} as {@link toDictObject} does.
 */
export function checkJsonObject(value: unknown, limits: WalkLimits): boolean {
  if (!isPlainObject(value)) {
    throw invalid(`the top level must be an object, not ${describe(value)}`);
  }
  const walker = new PlainTreeWalker(limits, false);
  walker.object(value, 1);
  return walker.stringifyIsExact;
}

/**
 * One validating walk over a plain tree: it carries the limits and the running value count,
 * and builds the exact tree only when asked to.
 */
class PlainTreeWalker {
  private values = 0;
  /** Whether `JSON.stringify` writes every number seen so far as the json format does. */
  stringifyIsExact = true;

  constructor(
    private readonly limits: WalkLimits,
    private readonly building: boolean,
  ) {}

  /** Returns the converted object, or undefined when only checking. */
  object(source: object, depth: number): DictObject | undefined {
    checkDictDepth(depth, this.limits);
    this.countValue();
    // Not building, JSON.stringify will read the caller's object again: a proxy could
    // then answer differently from what was checked.
    if (!this.building && types.isProxy(source)) {
      throw invalid("objects must be plain objects, not proxies");
    }
    const copy: DictObject | undefined = this.building ? new Map() : undefined;
    for (const key of Object.keys(source)) {
      const descriptor = Object.getOwnPropertyDescriptor(source, key);
      // Reading through the descriptor never runs a getter from the outside value.
      if (descriptor === undefined || !("value" in descriptor)) {
        throw invalid(`key ${JSON.stringify(key)} is not a data property`);
      }
      const item: unknown = descriptor.value;
      const converted = this.value(item, depth);
      if (copy !== undefined && converted !== undefined) copy.set(key, converted);
    }
    return copy;
  }

  private array(source: readonly unknown[], depth: number): DictValue[] | undefined {
    checkDictDepth(depth, this.limits);
    this.countValue();
    // Not building, JSON.stringify will read the caller's own array: it must be a plain
    // one, without a toJSON of its own or inherited, that nothing can change under it.
    if (
      !this.building &&
      (Object.getPrototypeOf(source) !== Array.prototype ||
        Object.hasOwn(source, "toJSON") ||
        types.isProxy(source))
    ) {
      throw invalid("arrays must be plain arrays (no subclass, proxy or toJSON)");
    }
    const copy: DictValue[] | undefined = this.building ? [] : undefined;
    for (let index = 0; index < source.length; index++) {
      if (!(index in source)) throw invalid("arrays must not have holes");
      let element: unknown;
      if (this.building) element = source[index];
      else {
        // Read once here and once by JSON.stringify: an accessor could differ between.
        const descriptor = Object.getOwnPropertyDescriptor(source, index);
        if (descriptor === undefined || !("value" in descriptor)) {
          throw invalid(`array element ${index} is not a data property`);
        }
        element = descriptor.value;
      }
      const converted = this.value(element, depth);
      if (copy !== undefined && converted !== undefined) copy.push(converted);
    }
    return copy;
  }

  /** `parentDepth` is the depth of the container holding `value`. */
  private value(value: unknown, parentDepth: number): DictValue | undefined {
    if (Array.isArray(value)) return this.array(value, parentDepth + 1);
    if (isPlainObject(value)) return this.object(value, parentDepth + 1);
    // A value that is not JSON is reported as such even where it would go over the count.
    const scalar = this.scalar(value);
    this.countValue();
    return scalar;
  }

  private scalar(value: unknown): DictValue {
    if (value === null || typeof value === "boolean" || typeof value === "string") return value;
    if (typeof value === "number") return this.number(value);
    throw invalid(`${describe(value)} is not a JSON value`);
  }

  private number(value: number): DictValue {
    if (!Number.isFinite(value)) throw invalid(`numbers must be finite, not ${String(value)}`);
    if (isPlainInteger(value)) return this.building ? BigInt(value) : value;
    if (
      Object.is(value, -0) ||
      (Number.isInteger(value) && Math.abs(value) < FIRST_EXPONENT_WRITTEN)
    ) {
      this.stringifyIsExact = false;
    }
    return value;
  }

  private countValue(): void {
    this.values++;
    checkDictValues(this.values, this.limits);
  }
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function invalid(message: string): CodecError {
  return new CodecError(ErrorCode.DICT_INVALID, message);
}
