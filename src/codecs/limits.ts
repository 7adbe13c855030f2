/**
 * Size and nesting limits for one dictionary, applied by every codec before it builds
 * anything, so a hostile peer cannot make us allocate or recurse without bound.
 */

import { CodecError, ErrorCode } from "../errors.js";

const BYTES_PER_MIB = 1024 * 1024;

/** Largest encoded dictionary we accept or produce, in bytes (16 MiB). */
export const MAX_DICT_BYTES = 16 * BYTES_PER_MIB;

/**
 * Deepest nesting we accept or produce, counted in containers: the top-level object is
 * depth 1, an object or array directly inside it is depth 2, and so on. Scalars add no depth.
 */
export const MAX_DICT_DEPTH = 64;

/**
 * Most values we accept or produce in one dictionary. Every value counts once: each object,
 * array, string, number, boolean and null, the top-level object included; keys do not count.
 * It bounds how many values a decoder builds, since a few bytes each (an empty MessagePack
 * map is one byte) would otherwise let 16 MiB turn into 16 million objects.
 */
export const MAX_DICT_VALUES = 1_000_000;

/** Limits for encoding or decoding one dictionary. */
export interface DictLimits {
  /** Largest encoded form, in bytes. */
  readonly maxBytes: number;
  /**
   * Deepest container nesting (top-level object = 1). It also bounds the recursion depth of
   * validation and encoding, so keep it in the hundreds at most.
   */
  readonly maxDepth: number;
  /**
   * Most values in one dictionary: every object, array, string, number, boolean and null,
   * the top-level object included; keys do not count.
   */
  readonly maxValues: number;
}

/** The limits used when the caller does not choose its own. */
export const DEFAULT_DICT_LIMITS: DictLimits = Object.freeze({
  maxBytes: MAX_DICT_BYTES,
  maxDepth: MAX_DICT_DEPTH,
  maxValues: MAX_DICT_VALUES,
});

/**
 * Refuses an encoded dictionary that is larger than the limit.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `byteLength` exceeds `limits.maxBytes`.
 */
export function checkDictSize(byteLength: number, limits: Pick<DictLimits, "maxBytes">): void {
  if (byteLength > limits.maxBytes) {
    throw new CodecError(
      ErrorCode.DICT_TOO_LARGE,
      `dictionary is ${byteLength} bytes, more than the limit of ${limits.maxBytes} bytes`,
    );
  }
}

/**
 * Refuses a container that would sit deeper than the limit. Codecs call it when a container
 * opens, before they build anything inside it.
 *
 * @param depth - the depth of the container being opened (top-level object = 1).
 * @throws {@link CodecError} `DICT_TOO_DEEP` when `depth` exceeds `limits.maxDepth`.
 */
export function checkDictDepth(depth: number, limits: Pick<DictLimits, "maxDepth">): void {
  if (depth > limits.maxDepth) {
    throw new CodecError(
      ErrorCode.DICT_TOO_DEEP,
      `dictionary nests deeper than the limit of ${limits.maxDepth} levels`,
    );
  }
}

/**
 * Refuses a dictionary holding more values than the limit. Codecs count values as they
 * meet them (top-level object included, keys excluded) and call it with the running count,
 * before they build the value that goes over.
 *
 * @param count - how many values have been seen so far, the current one included.
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `count` exceeds `limits.maxValues`.
 */
export function checkDictValues(count: number, limits: Pick<DictLimits, "maxValues">): void {
  if (count > limits.maxValues) {
    throw new CodecError(
      ErrorCode.DICT_TOO_LARGE,
      `dictionary holds more than ${limits.maxValues} values (the limit)`,
    );
  }
}
