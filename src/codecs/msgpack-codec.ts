/**
 * The `msgpack` dictionary format: standard MessagePack (https://github.com/msgpack/msgpack/
 * blob/master/spec.md) whose top level is a map, written and read with `@msgpack/msgpack`,
 * so any MessagePack implementation can read what we write.
 *
 * Only the types that carry JSON are allowed: nil, bool, int, float, str, array and map with
 * str keys. bin and every ext type (including the timestamp ext, type -1) are refused.
 *
 * str is UTF-8 on the wire (spec: "str ... represents a UTF-8 string"), and UTF-8 cannot
 * hold a lone UTF-16 surrogate, so a dictionary with one cannot be written in this format
 * (DICT_INVALID); use json or xml for such strings.
 */

import { createRequire } from "node:module";
import type * as MessagePack from "@msgpack/msgpack";
import type { DecoderOptions, ExtensionCodecType } from "@msgpack/msgpack";

let messagePack: typeof MessagePack | undefined;

/**
 * The MessagePack library (its CommonJS build) is loaded on first use, not at start-up:
 * most runs never encode or decode MessagePack.
 */
function loadMessagePack(): typeof MessagePack {
  messagePack ??= createRequire(import.meta.url)("@msgpack/msgpack") as typeof MessagePack;
  return messagePack;
}
import { CodecError, ErrorCode } from "../errors.js";
import {
  validateJsonObject,
  type JsonObject,
  type JsonTreeAdapters,
  type JsonValue,
} from "./json-value.js";
import {
  checkDictDepth,
  checkDictSize,
  checkDictValues,
  DEFAULT_DICT_LIMITS,
  type DictLimits,
} from "./limits.js";
import { decodeStrictUtf8 } from "./strict-utf8.js";

// Format bytes, spec section "Formats" ("Overview").
const POSITIVE_FIXINT_LAST = 0x7f;
const FIXMAP_LAST = 0x8f;
const FIXARRAY_LAST = 0x9f;
const FIXSTR_FIRST = 0xa0;
const FIXSTR_LAST = 0xbf;
const NIL = 0xc0;
const FALSE = 0xc2;
const TRUE = 0xc3;
const BIN_8 = 0xc4;
const BIN_16 = 0xc5;
const BIN_32 = 0xc6;
const EXT_8 = 0xc7;
const EXT_16 = 0xc8;
const EXT_32 = 0xc9;
const FLOAT_32 = 0xca;
const FLOAT_64 = 0xcb;
const UINT_8 = 0xcc;
const UINT_16 = 0xcd;
const UINT_32 = 0xce;
const UINT_64 = 0xcf;
const INT_8 = 0xd0;
const INT_16 = 0xd1;
const INT_32 = 0xd2;
const INT_64 = 0xd3;
const FIXEXT_1 = 0xd4;
const FIXEXT_16 = 0xd8;
const STR_8 = 0xd9;
const STR_16 = 0xda;
const STR_32 = 0xdb;
const ARRAY_16 = 0xdc;
const ARRAY_32 = 0xdd;
const MAP_16 = 0xde;
const MAP_32 = 0xdf;
const NEGATIVE_FIXINT_FIRST = 0xe0;

/** Low bits of a fixmap or fixarray byte: its element count. */
const FIX_COUNT_MASK = 0x0f;
/** Low bits of a fixstr byte: its length in bytes. */
const FIXSTR_LENGTH_MASK = 0x1f;

const ONE_BYTE = 1;
const TWO_BYTES = 2;
const FOUR_BYTES = 4;
const EIGHT_BYTES = 8;
/** A map entry is a key and a value, each at least one byte. */
const MIN_MAP_ENTRY_BYTES = 2;
const ITEMS_PER_MAP_ENTRY = 2;
const SCALAR_DEPTH_IN_LIBRARY = 1;

/**
 * Prefixed to every key while the library builds its objects, then removed again.
 *
 * The library refuses the key `__proto__` ("The key __proto__ is not allowed"), because it
 * stores keys with a plain assignment, which for `__proto__` would replace the object's
 * prototype. Prefixing every key means the library only ever assigns keys that are not
 * `__proto__`; validation then strips the prefix and stores each real key with
 * `setOwnProperty`, so `__proto__` round-trips as an ordinary own key.
 */
const KEY_GUARD = ".";

/** Refuses every ext type, including the library's built-in timestamp (type -1). */
const NO_EXTENSIONS: ExtensionCodecType<undefined> = {
  tryToEncode: () => null,
  decode: (_data: Uint8Array, extensionType: number) => {
    throw new CodecError(
      ErrorCode.DICT_INVALID,
      `MessagePack extension type ${extensionType} is not part of the dictionary model`,
    );
  },
};

type KeyDecoder = NonNullable<DecoderOptions["keyDecoder"]>;

/** Decodes every map key itself: strictly, keeping a leading U+FEFF, and guarded. */
const GUARDED_KEY_DECODER: KeyDecoder = {
  // "Cacheable" is how the library decides to hand a key to us; we say yes to all of them.
  canBeCached: () => true,
  decode: (bytes: Uint8Array, offset: number, byteLength: number) =>
    KEY_GUARD +
    decodeStrictUtf8(bytes.subarray(offset, offset + byteLength), { keepByteOrderMark: true }),
};

function requireStringKey(key: unknown): string {
  if (typeof key !== "string") {
    throw new CodecError(ErrorCode.DICT_INVALID, "MessagePack map keys must be strings");
  }
  return key;
}

/** Turns the library's output (guarded keys, raw string bytes) back into plain JSON. */
const RESTORE_LIBRARY_OUTPUT: JsonTreeAdapters = {
  key: (decodedKey) => {
    if (!decodedKey.startsWith(KEY_GUARD)) {
      throw new CodecError(ErrorCode.DICT_INVALID, "MessagePack map key was not decoded as a str");
    }
    return decodedKey.slice(KEY_GUARD.length);
  },
  // With `rawStrings`, str values arrive as bytes; bin never gets this far (the structure
  // scan refuses it), so every Uint8Array here was a str.
  leaf: (leaf) => {
    if (!(leaf instanceof Uint8Array)) {
      throw new CodecError(ErrorCode.DICT_INVALID, "unexpected value in MessagePack data");
    }
    return decodeStrictUtf8(leaf, { keepByteOrderMark: true });
  },
};

/** Finds a lone surrogate: in a `u` regex a well-formed pair is one code point, not Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Encodes an already validated dictionary as MessagePack.
 *
 * Safe integers become the smallest MessagePack int that holds them (so -0, which the data
 * model treats as 0, is written as positive fixint 0); every other number becomes float 64.
 * Callers outside this folder use `encodeDict`, which validates and applies the size limit.
 *
 * @throws {@link CodecError} `DICT_INVALID` when a key or string holds a lone surrogate,
 *   which UTF-8 (and so MessagePack str) cannot represent.
 */
export function encodeMsgpackDict(
  value: JsonObject,
  limits: Pick<DictLimits, "maxDepth"> = DEFAULT_DICT_LIMITS,
): Uint8Array {
  requireWellFormedStrings(value);
  const encoder = new (loadMessagePack().Encoder)({
    extensionCodec: NO_EXTENSIONS,
    // The library counts a scalar as one level deeper than the container holding it.
    maxDepth: limits.maxDepth + SCALAR_DEPTH_IN_LIBRARY,
  });
  return encoder.encode(value);
}

/**
 * Decodes MessagePack bytes holding exactly one map.
 *
 * A 64-bit integer (uint 64 / int 64) is accepted only when a double holds it exactly: every
 * safe integer, and larger ones such as 2^60 that happen to be representable. Any other is
 * refused with DICT_INVALID instead of being silently rounded to a different number.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` is longer than `limits.maxBytes`
 *   (checked before anything is decoded), or holds more than `limits.maxValues` values
 *   (counted by a structure scan before anything is built).
 * @throws {@link CodecError} `DICT_TOO_DEEP` when arrays and maps nest deeper than
 *   `limits.maxDepth` (checked by the same structure scan).
 * @throws {@link CodecError} `DICT_INVALID` for truncated or trailing data, a top level that is
 *   not a map, bin or ext values, non-str map keys, malformed UTF-8, NaN or infinite floats,
 *   the reserved byte 0xc1, and inexact 64-bit integers.
 */
export function decodeMsgpackDict(bytes: Uint8Array, limits: DictLimits): JsonObject {
  checkDictSize(bytes.byteLength, limits);
  scanStructure(bytes, limits);
  const decoder = new (loadMessagePack().Decoder)({
    extensionCodec: NO_EXTENSIONS,
    // Numbers, not bigints: the scan has already refused 64-bit integers a double cannot
    // hold exactly, and for the rest the library's high * 2^32 + low is exact.
    useBigInt64: false,
    // The library decodes long strings with a TextDecoder that drops a leading U+FEFF and
    // replaces malformed UTF-8 with U+FFFD; taking the bytes and decoding them ourselves
    // keeps every string exact and refuses malformed ones.
    rawStrings: true,
    maxStrLength: limits.maxBytes,
    // With rawStrings, str values are bounded by maxBinLength.
    maxBinLength: limits.maxBytes,
    maxArrayLength: limits.maxBytes,
    maxMapLength: Math.floor(limits.maxBytes / MIN_MAP_ENTRY_BYTES),
    maxExtLength: 0,
    keyDecoder: GUARDED_KEY_DECODER,
    mapKeyConverter: requireStringKey,
  });
  let decoded: unknown;
  try {
    decoded = decoder.decode(bytes);
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw new CodecError(ErrorCode.DICT_INVALID, "dictionary is not valid MessagePack", {
      cause: error,
    });
  }
  return validateJsonObject(decoded, limits, RESTORE_LIBRARY_OUTPUT);
}

function requireWellFormedStrings(value: JsonValue): void {
  if (typeof value === "string") {
    if (LONE_SURROGATE.test(value)) throw loneSurrogate();
  } else if (Array.isArray(value)) {
    for (const item of value) requireWellFormedStrings(item);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key)) throw loneSurrogate();
      requireWellFormedStrings(item);
    }
  }
}

function loneSurrogate(): CodecError {
  return new CodecError(
    ErrorCode.DICT_INVALID,
    "a string holds a lone UTF-16 surrogate, which MessagePack (UTF-8) cannot carry",
    { hint: "send this dictionary as json or xml" },
  );
}

/** A container whose items the scan has not finished reading. */
interface OpenContainer {
  /** Items still to read; a map of n entries holds 2n items, keys at even counts. */
  remaining: number;
  readonly isMap: boolean;
}

/**
 * Walks the structure once, without building anything, and refuses everything the
 * dictionary model does not allow. It runs before the library decodes, because the library
 * has no depth or value-count limit: 16 MiB of nested one-element arrays, or of empty maps
 * in one array, would make it build 16 million containers.
 *
 * Every value (not map keys) is counted against `limits.maxValues` as its head byte is read.
 * Memory is bounded by `limits.maxDepth` (one entry per open container); string contents
 * are skipped here and checked when they are decoded.
 */
function scanStructure(
  bytes: Uint8Array,
  limits: Pick<DictLimits, "maxDepth" | "maxValues">,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const open: OpenContainer[] = [];
  let position = 0;
  let values = 0;

  const ensureAvailable = (byteCount: number): void => {
    if (bytes.byteLength - position < byteCount) {
      throw new CodecError(ErrorCode.DICT_INVALID, "MessagePack data is truncated");
    }
  };
  const readLength = (byteCount: number): number => {
    ensureAvailable(byteCount);
    let length: number;
    if (byteCount === ONE_BYTE) length = view.getUint8(position);
    else if (byteCount === TWO_BYTES) length = view.getUint16(position);
    else length = view.getUint32(position);
    position += byteCount;
    return length;
  };
  const skip = (byteCount: number): void => {
    ensureAvailable(byteCount);
    position += byteCount;
  };
  const requireExactInteger = (value: bigint): void => {
    if (BigInt(Number(value)) !== value) {
      throw new CodecError(
        ErrorCode.DICT_INVALID,
        `64-bit integer ${value.toString()} cannot be represented exactly as a number`,
      );
    }
  };

  do {
    const parent = open.at(-1);
    const isKey =
      parent !== undefined && parent.isMap && parent.remaining % ITEMS_PER_MAP_ENTRY === 0;
    if (parent !== undefined) parent.remaining--;
    ensureAvailable(ONE_BYTE);
    const head = view.getUint8(position);
    position += ONE_BYTE;

    if (isKey) {
      if (!isStrHead(head)) {
        throw new CodecError(ErrorCode.DICT_INVALID, "MessagePack map keys must be strings");
      }
    } else {
      values++;
      checkDictValues(values, limits);
    }
    let container: { count: number; isMap: boolean } | undefined;
    if (head <= POSITIVE_FIXINT_LAST || head >= NEGATIVE_FIXINT_FIRST) {
      // fixint: the value is in the head byte
    } else if (head <= FIXMAP_LAST) {
      container = { count: head & FIX_COUNT_MASK, isMap: true };
    } else if (head <= FIXARRAY_LAST) {
      container = { count: head & FIX_COUNT_MASK, isMap: false };
    } else if (head <= FIXSTR_LAST) {
      skip(head & FIXSTR_LENGTH_MASK);
    } else {
      switch (head) {
        case NIL:
        case FALSE:
        case TRUE:
          break;
        case UINT_8:
        case INT_8:
          skip(ONE_BYTE);
          break;
        case UINT_16:
        case INT_16:
          skip(TWO_BYTES);
          break;
        case UINT_32:
        case INT_32:
        case FLOAT_32:
          skip(FOUR_BYTES);
          break;
        case FLOAT_64:
          skip(EIGHT_BYTES);
          break;
        case UINT_64:
          ensureAvailable(EIGHT_BYTES);
          requireExactInteger(view.getBigUint64(position));
          position += EIGHT_BYTES;
          break;
        case INT_64:
          ensureAvailable(EIGHT_BYTES);
          requireExactInteger(view.getBigInt64(position));
          position += EIGHT_BYTES;
          break;
        case STR_8:
          skip(readLength(ONE_BYTE));
          break;
        case STR_16:
          skip(readLength(TWO_BYTES));
          break;
        case STR_32:
          skip(readLength(FOUR_BYTES));
          break;
        case ARRAY_16:
          container = { count: readLength(TWO_BYTES), isMap: false };
          break;
        case ARRAY_32:
          container = { count: readLength(FOUR_BYTES), isMap: false };
          break;
        case MAP_16:
          container = { count: readLength(TWO_BYTES), isMap: true };
          break;
        case MAP_32:
          container = { count: readLength(FOUR_BYTES), isMap: true };
          break;
        case BIN_8:
        case BIN_16:
        case BIN_32:
          throw new CodecError(
            ErrorCode.DICT_INVALID,
            "MessagePack bin (raw bytes) is not part of the dictionary model",
          );
        case EXT_8:
        case EXT_16:
        case EXT_32:
          throw extensionRefused();
        default:
          if (head >= FIXEXT_1 && head <= FIXEXT_16) throw extensionRefused();
          // Only 0xc1 is left: the spec reserves it ("never used").
          throw new CodecError(ErrorCode.DICT_INVALID, "MessagePack byte 0xc1 is never used");
      }
    }

    if (parent === undefined && container?.isMap !== true) {
      throw new CodecError(ErrorCode.DICT_INVALID, "the top level must be a MessagePack map");
    }
    if (container !== undefined) {
      checkDictDepth(open.length + 1, limits);
      const items = container.isMap ? container.count * ITEMS_PER_MAP_ENTRY : container.count;
      // Every item takes at least one byte, so a count beyond the bytes left is a lie.
      ensureAvailable(items);
      if (items > 0) open.push({ remaining: items, isMap: container.isMap });
    }
    while (open.length > 0 && open[open.length - 1]?.remaining === 0) open.pop();
  } while (open.length > 0);

  if (position !== bytes.byteLength) {
    throw new CodecError(ErrorCode.DICT_INVALID, "trailing bytes after the MessagePack map");
  }
}

function isStrHead(head: number): boolean {
  return (
    (head >= FIXSTR_FIRST && head <= FIXSTR_LAST) ||
    head === STR_8 ||
    head === STR_16 ||
    head === STR_32
  );
}

function extensionRefused(): CodecError {
  return new CodecError(
    ErrorCode.DICT_INVALID,
    "MessagePack extension types (including timestamps) are not part of the dictionary model",
  );
}
