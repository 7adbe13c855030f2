/**
 * The data model every dictionary codec carries: a JSON object tree.
 *
 * Numbers are finite doubles, and -0 is normalised to 0: JSON text cannot tell -0 from 0
 * once `JSON.stringify` has written it, so all three wire formats agree to treat them as the
 * same value. Validation (and therefore every decoder) turns -0 into 0, and every encoder
 * writes -0 exactly as it writes 0.
 */

import { types } from "node:util";
import { CodecError, ErrorCode } from "../errors.js";
import { checkDictDepth, checkDictValues, type DictLimits } from "./limits.js";

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object: string keys, insertion order kept. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * Adapters for decoders whose library output is not yet plain JSON. Both default to
 * refusing anything that is not already JSON.
 */
export interface JsonTreeAdapters {
  /** Maps a key as it appears in the decoded tree back to the key it stands for. */
  readonly key?: (decodedKey: string) => string;
  /**
   * Converts a leaf object that is neither an array nor a plain object (for example raw
   * string bytes) into a JSON string. It throws a {@link CodecError} to refuse the leaf.
   */
  readonly leaf?: (leaf: object) => string;
}

/**
 * Sets `key` as an ordinary own, enumerable data property of `target`.
 *
 * A plain assignment `target["__proto__"] = v` would call the inherited `__proto__` setter
 * and replace the object's prototype instead of creating a key; `defineProperty` always
 * creates the own property, so keys like `__proto__`, `constructor` and `prototype`
 * round-trip as data and never touch any prototype.
 */
export function setOwnProperty(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Checks that `value` is a plain JSON object tree and returns a fresh, typed copy of it.
 *
 * Accepted: null, booleans, finite numbers (-0 becomes 0), strings, dense arrays, and
 * objects whose prototype is `Object.prototype` or null, with enumerable string-keyed data
 * properties (symbol keys and non-enumerable properties are not part of the value and are
 * dropped, as `JSON.stringify` does). Everything else is refused: `undefined`, bigint,
 * NaN, Infinity, functions, symbols, `Uint8Array`, `Map`, `Date`, class instances,
 * accessor properties, sparse arrays.
 *
 * @param limits - `maxDepth` bounds the nesting (top-level object = depth 1); `maxValues`
 *   bounds the number of values (top-level object included, keys excluded).
 * @param adapters - hooks for decoders whose library output needs converting.
 * @throws {@link CodecError} `DICT_INVALID` when the value is not a JSON object tree.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when it nests deeper than `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_TOO_LARGE` when it holds more than `limits.maxValues`
 *   values (checked as each value is reached, before it is copied).
 */
export function validateJsonObject(
  value: unknown,
  limits: CopyLimits,
  adapters: JsonTreeAdapters = {},
): JsonObject {
  if (!isPlainObject(value)) {
    throw invalid(`the top level must be an object, not ${describe(value)}`);
  }
  const copier = new TreeCopier(limits, adapters);
  return copier.copyObject(value, 1);
}

/**
 * Checks, like {@link validateJsonObject}, that `value` is a plain JSON object tree,
 * without copying it: for an encoder that only reads the tree once, at once (as
 * `JSON.stringify` does), where a copy would only add work. Since the encoder then reads
 * the caller's own objects, anything that could make it read something other than what
 * was checked is refused as well: proxies, array subclasses, arrays with a `toJSON` of
 * their own, and accessor elements.
 *
 * @throws {@link CodecError} as {@link validateJsonObject} does.
 */
export function checkJsonObject(value: unknown, limits: CopyLimits): asserts value is JsonObject {
  if (!isPlainObject(value)) {
    throw invalid(`the top level must be an object, not ${describe(value)}`);
  }
  new TreeCopier(limits, {}, false).copyObject(value, 1);
}

type CopyLimits = Pick<DictLimits, "maxDepth" | "maxValues">;

/**
 * One validating walk: it carries the limits, the adapters and the running value count.
 * It builds the copy only when asked to.
 */
class TreeCopier {
  private values = 0;

  constructor(
    private readonly limits: CopyLimits,
    private readonly adapters: JsonTreeAdapters,
    private readonly copying = true,
  ) {}

  copyObject(source: object, depth: number): JsonObject {
    checkDictDepth(depth, this.limits);
    this.countValue();
    // Not copying, JSON.stringify will read the caller's object again: a proxy could
    // then answer differently from what was checked.
    if (!this.copying && types.isProxy(source)) {
      throw invalid("objects must be plain objects, not proxies");
    }
    const copy: JsonObject | undefined = this.copying ? {} : undefined;
    for (const decodedKey of Object.keys(source)) {
      const descriptor = Object.getOwnPropertyDescriptor(source, decodedKey);
      // Reading through the descriptor never runs a getter from the outside value.
      if (descriptor === undefined || !("value" in descriptor)) {
        throw invalid(`key ${JSON.stringify(decodedKey)} is not a data property`);
      }
      const item: unknown = descriptor.value;
      const key = this.adapters.key === undefined ? decodedKey : this.adapters.key(decodedKey);
      const copied = this.copyValue(item, depth);
      if (copy === undefined) continue;
      // Plain assignment creates an own data property for every key but "__proto__",
      // whose inherited setter it would call instead; defineProperty (much slower) is
      // kept for that one key.
      if (key === "__proto__") setOwnProperty(copy, key, copied);
      else copy[key] = copied;
    }
    // Not copying: the source was checked to be a plain object of JSON values.
    return copy ?? (source as JsonObject);
  }

  private copyArray(source: readonly unknown[], depth: number): JsonValue[] {
    checkDictDepth(depth, this.limits);
    this.countValue();
    // Not copying, JSON.stringify will read the caller's own array: it must be a plain
    // one, without a toJSON of its own or inherited, that nothing can change under it.
    if (
      !this.copying &&
      (Object.getPrototypeOf(source) !== Array.prototype ||
        Object.hasOwn(source, "toJSON") ||
        types.isProxy(source))
    ) {
      throw invalid("arrays must be plain arrays (no subclass, proxy or toJSON)");
    }
    const copy: JsonValue[] | undefined = this.copying ? [] : undefined;
    for (let index = 0; index < source.length; index++) {
      if (!(index in source)) throw invalid("arrays must not have holes");
      let element: unknown;
      if (this.copying) element = source[index];
      else {
        // Read once here and once by JSON.stringify: an accessor could differ between.
        const descriptor = Object.getOwnPropertyDescriptor(source, index);
        if (descriptor === undefined || !("value" in descriptor)) {
          throw invalid(`array element ${index} is not a data property`);
        }
        element = descriptor.value;
      }
      const copied = this.copyValue(element, depth);
      copy?.push(copied);
    }
    // Not copying: every element was checked to be a JSON value.
    return copy ?? (source as JsonValue[]);
  }

  /** `parentDepth` is the depth of the container holding `value`. */
  private copyValue(value: unknown, parentDepth: number): JsonValue {
    if (Array.isArray(value)) return this.copyArray(value, parentDepth + 1);
    if (isPlainObject(value)) return this.copyObject(value, parentDepth + 1);
    const scalar = this.copyScalar(value);
    this.countValue();
    return scalar;
  }

  private copyScalar(value: unknown): JsonValue {
    if (value === null || typeof value === "boolean" || typeof value === "string") return value;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw invalid(`numbers must be finite, not ${String(value)}`);
      // -0 === 0, so this maps -0 to +0 and leaves every other number alone.
      return value === 0 ? 0 : value;
    }
    if (typeof value === "object" && this.adapters.leaf !== undefined) {
      return this.adapters.leaf(value);
    }
    throw invalid(`${describe(value)} is not a JSON value`);
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

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  // "[object Uint8Array]", "[object Map]", ...: names the kind without running its code.
  if (typeof value === "object") return Object.prototype.toString.call(value);
  return `a ${typeof value}`;
}

function invalid(message: string): CodecError {
  return new CodecError(ErrorCode.DICT_INVALID, message);
}
