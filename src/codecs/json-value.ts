/**
 * Plain JavaScript JSON values: what callers who hold plain objects pass in. The codecs
 * themselves carry the exact representation ({@link DictObject}); see `toDictObject` and
 * `toPlainObject` for the conversions.
 */

import type { DictLimits } from "./limits.js";
import { plainTreeToDictObject } from "./to-dict-object.js";
import { toPlainObject } from "./to-plain-object.js";

/** Any plain JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/**
 * A plain JSON object. JavaScript puts its integer-like keys ("2", "10") first, in numeric
 * order, whatever order they were added in; a {@link DictObject} keeps the order written.
 */
export type JsonObject = { [key: string]: JsonValue };

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
 * Checks that `value` is a plain JSON object tree and returns a fresh, typed copy of it, in
 * the same key order, every number as it was (-0 included). It is `toDictObject` followed
 * by `toPlainObject`, so it accepts what `toDictObject` accepts.
 *
 * @throws {@link CodecError} `DICT_INVALID` when the value is not a JSON object tree.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when it nests deeper than `limits.maxDepth`.
 * @throws {@link CodecError} `DICT_TOO_LARGE` when it holds more than `limits.maxValues`
 *   values (checked as each value is reached, before it is copied).
 */
export function validateJsonObject(
  value: unknown,
  limits: Pick<DictLimits, "maxDepth" | "maxValues">,
): JsonObject {
  return toPlainObject(plainTreeToDictObject(value, limits), limits);
}
