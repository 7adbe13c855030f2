/**
 * A caller's {@link DictObject}, checked and copied before an encoder reads it: the encoders
 * then read a tree that is valid and that nothing outside can change while they write.
 */

import { CodecError, ErrorCode } from "../errors.js";
import { describeValue } from "./describe-value.js";
import type { DictObject, DictValue } from "./dict-value.js";
import { checkDictDepth, checkDictValues, type DictLimits } from "./limits.js";

type WalkLimits = Pick<DictLimits, "maxDepth" | "maxValues">;

/**
 * Checks that `value` is a valid exact dictionary and returns a fresh copy of it.
 *
 * Accepted: null, booleans, strings, bigints (integers), finite numbers (floats, -0
 * included), dense arrays, and `Map`s with string keys. Nothing else: plain objects inside
 * a `Map` are refused, so that no part of a tree is in an order the caller did not choose.
 *
 * @throws {@link CodecError} `DICT_INVALID` when it is not a valid exact dictionary.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when a container is deeper than `limits.maxDepth`
 *   ([C-DEPTH]; the top-level map is depth 1).
 * @throws {@link CodecError} `DICT_TOO_LARGE` when it holds more than `limits.maxValues` values.
 */
export function copyDictObject(value: unknown, limits: WalkLimits): DictObject {
  if (!(value instanceof Map)) {
    throw invalid(`the top level must be a Map, not ${describeValue(value)}`);
  }
  return new DictCopier(limits).map(value, 1);
}

class DictCopier {
  private values = 0;

  constructor(private readonly limits: WalkLimits) {}

  map(source: Map<unknown, unknown>, depth: number): DictObject {
    checkDictDepth(depth, this.limits);
    this.countValue();
    const copy: DictObject = new Map();
    for (const [key, item] of source) {
      if (typeof key !== "string") throw invalid(`keys must be strings, not ${describeValue(key)}`);
      copy.set(key, this.value(item, depth));
    }
    return copy;
  }

  private array(source: readonly unknown[], depth: number): DictValue[] {
    checkDictDepth(depth, this.limits);
    this.countValue();
    const copy: DictValue[] = [];
    for (let index = 0; index < source.length; index++) {
      if (!(index in source)) throw invalid("arrays must not have holes");
      copy.push(this.value(source[index], depth));
    }
    return copy;
  }

  /** `parentDepth` is the depth of the container holding `value`. */
  private value(value: unknown, parentDepth: number): DictValue {
    if (value instanceof Map) return this.map(value, parentDepth + 1);
    if (Array.isArray(value)) return this.array(value, parentDepth + 1);
    this.countValue();
    switch (typeof value) {
      case "string":
      case "boolean":
      case "bigint":
        return value;
      case "number":
        if (!Number.isFinite(value)) throw invalid(`floats must be finite, not ${String(value)}`);
        return value;
      default:
        if (value === null) return null;
        throw invalid(`${describeValue(value)} is not a dictionary value`);
    }
  }

  private countValue(): void {
    this.values++;
    checkDictValues(this.values, this.limits);
  }
}

function invalid(message: string): CodecError {
  return new CodecError(ErrorCode.DICT_INVALID, message);
}
