/**
 * The `msgpack` format's decoder ([C-MSGPACK]). Written here rather than taken from a
 * library because none we know of keeps a map's order (they build plain objects) or tells
 * an int from a float (they return numbers for both), and because it checks every limit as
 * it goes: the depth as a container opens, the value count as each value starts, and every
 * count against the bytes left, before anything is allocated for it.
 */

import { CodecError, ErrorCode } from "../errors.js";
import type { DictObject, DictValue } from "./dict-value.js";
import { checkDictDepth, checkDictSize, checkDictValues, type DictLimits } from "./limits.js";
import * as Format from "./msgpack-format.js";
import { decodeStrictUtf8 } from "./strict-utf8.js";

/** Strings this short are decoded by hand when they are ASCII: cheaper than a TextDecoder call. */
const MAX_HAND_DECODED_STRING_BYTES = 32;
const FIRST_NON_ASCII_BYTE = 0x80;
/** A map entry is a key and a value, each at least one byte. */
const MIN_MAP_ENTRY_BYTES = 2;
/** What a map is read as when the reader only walks the structure. */
const NOT_BUILT: DictObject = new Map();

/**
 * Decodes MessagePack bytes holding exactly one map, into the exact representation:
 * - [C-INT] every int and uint (fixint, 8, 16, 32, 64 bits) as an integer (bigint), exactly;
 * - [C-FLOAT] float 32 and float 64 as a float (number), -0.0 included;
 * - [C-ORDER] map entries in the order written; [C-DUP] a repeated key is refused.
 *
 * @throws {@link CodecError} `DICT_TOO_LARGE` when `bytes` is longer than `limits.maxBytes`
 *   (checked before anything is decoded), or a value beyond `limits.maxValues` starts.
 * @throws {@link CodecError} `DICT_TOO_DEEP` when a map or array opens deeper than
 *   `limits.maxDepth` ([C-DEPTH]).
 * @throws {@link CodecError} `DICT_INVALID` for truncated or trailing data, a top level that
 *   is not a map, bin or ext values (the timestamp ext included), non-str map keys, duplicate
 *   keys, malformed UTF-8, NaN or infinite floats ([C-FINITE]), and the never-used byte 0xc1.
 */
export function decodeMsgpackDict(bytes: Uint8Array, limits: DictLimits): DictObject {
  checkDictSize(bytes.byteLength, limits);
  // [C-LIMITS] every value takes at least one byte, so only input longer than the limit can hold
  // too many values: that is scanned first, building nothing, so that 16 MiB of one-byte
  // empty maps is refused without building a million of them.
  if (bytes.byteLength > limits.maxValues) new MsgpackReader(bytes, limits, false).readTop();
  const reader = new MsgpackReader(bytes, limits, true);
  const top = reader.readTop();
  if (reader.position !== bytes.byteLength) {
    throw invalid("trailing bytes after the MessagePack map");
  }
  return top;
}

class MsgpackReader {
  position = 0;
  private values = 0;
  private readonly view: DataView;

  /**
   * @param building - false to only walk the structure, checking the limits: containers
   *   and strings are then not built (what is returned is not the dictionary).
   */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: DictLimits,
    private readonly building: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  readTop(): DictObject {
    const head = this.readHead();
    this.countValue();
    let count: number;
    if (head >= Format.FIXMAP_FIRST && head <= Format.FIXMAP_LAST) {
      count = head & Format.FIX_COUNT_MASK;
    } else if (head === Format.MAP_16) count = this.readLength(Format.TWO_BYTES);
    else if (head === Format.MAP_32) count = this.readLength(Format.FOUR_BYTES);
    else throw invalid("the top level must be a MessagePack map");
    return this.readMap(count, 1);
  }

  private readHead(): number {
    this.ensureAvailable(Format.ONE_BYTE);
    return this.view.getUint8(this.position++);
  }

  /** @param depth - the depth of the container the value is in. */
  private readValue(depth: number): DictValue {
    const head = this.readHead();
    // Counted before anything of the value is read or built.
    this.countValue();
    if (head <= Format.POSITIVE_FIXINT_LAST) return BigInt(head);
    if (head >= Format.NEGATIVE_FIXINT_FIRST) return BigInt(head - (Format.UINT_8_MAX + 1));
    if (head <= Format.FIXMAP_LAST) return this.readMap(head & Format.FIX_COUNT_MASK, depth + 1);
    if (head <= Format.FIXARRAY_LAST) {
      return this.readArray(head & Format.FIX_COUNT_MASK, depth + 1);
    }
    if (head <= Format.FIXSTR_LAST) return this.readString(head & Format.FIXSTR_LENGTH_MASK);
    const view = this.view;
    switch (head) {
      case Format.NIL:
        return null;
      case Format.FALSE:
        return false;
      case Format.TRUE:
        return true;
      case Format.UINT_8:
        return BigInt(this.readLength(Format.ONE_BYTE));
      case Format.UINT_16:
        return BigInt(this.readLength(Format.TWO_BYTES));
      case Format.UINT_32:
        return BigInt(this.readLength(Format.FOUR_BYTES));
      case Format.UINT_64:
        return view.getBigUint64(this.advance(Format.EIGHT_BYTES));
      case Format.INT_8:
        return BigInt(view.getInt8(this.advance(Format.ONE_BYTE)));
      case Format.INT_16:
        return BigInt(view.getInt16(this.advance(Format.TWO_BYTES)));
      case Format.INT_32:
        return BigInt(view.getInt32(this.advance(Format.FOUR_BYTES)));
      case Format.INT_64:
        return view.getBigInt64(this.advance(Format.EIGHT_BYTES));
      case Format.FLOAT_32:
        return finite(view.getFloat32(this.advance(Format.FOUR_BYTES)));
      case Format.FLOAT_64:
        return finite(view.getFloat64(this.advance(Format.EIGHT_BYTES)));
      case Format.STR_8:
        return this.readString(this.readLength(Format.ONE_BYTE));
      case Format.STR_16:
        return this.readString(this.readLength(Format.TWO_BYTES));
      case Format.STR_32:
        return this.readString(this.readLength(Format.FOUR_BYTES));
      case Format.ARRAY_16:
        return this.readArray(this.readLength(Format.TWO_BYTES), depth + 1);
      case Format.ARRAY_32:
        return this.readArray(this.readLength(Format.FOUR_BYTES), depth + 1);
      case Format.MAP_16:
        return this.readMap(this.readLength(Format.TWO_BYTES), depth + 1);
      case Format.MAP_32:
        return this.readMap(this.readLength(Format.FOUR_BYTES), depth + 1);
      case Format.BIN_8:
      case Format.BIN_16:
      case Format.BIN_32:
        throw invalid("MessagePack bin (raw bytes) is not part of the dictionary model");
      case Format.EXT_8:
      case Format.EXT_16:
      case Format.EXT_32:
        throw extensionRefused();
      default:
        if (head >= Format.FIXEXT_1 && head <= Format.FIXEXT_16) throw extensionRefused();
        // Only 0xc1 is left: the spec reserves it ("never used").
        throw invalid("MessagePack byte 0xc1 is never used");
    }
  }

  /** [C-DEPTH] checked as the map opens; [C-DUP] a key seen before is refused. */
  private readMap(count: number, depth: number): DictObject {
    checkDictDepth(depth, this.limits);
    // Every entry takes at least two bytes, so a count beyond the bytes left is a lie.
    this.ensureAvailable(count * MIN_MAP_ENTRY_BYTES);
    if (!this.building) {
      for (let entry = 0; entry < count; entry++) {
        this.readKey();
        this.readValue(depth);
      }
      return NOT_BUILT;
    }
    const map: DictObject = new Map();
    for (let entry = 0; entry < count; entry++) {
      const keyAt = this.position;
      const key = this.readKey();
      map.set(key, this.readValue(depth));
      if (map.size === entry) {
        throw invalid(`duplicate key ${JSON.stringify(key)} (at byte ${keyAt})`);
      }
    }
    return map;
  }

  private readArray(count: number, depth: number): DictValue[] {
    checkDictDepth(depth, this.limits);
    // Every element takes at least one byte.
    this.ensureAvailable(count);
    if (!this.building) {
      for (let index = 0; index < count; index++) this.readValue(depth);
      return [];
    }
    const array: DictValue[] = [];
    for (let index = 0; index < count; index++) array.push(this.readValue(depth));
    return array;
  }

  private readKey(): string {
    const head = this.readHead();
    if (head >= Format.FIXSTR_FIRST && head <= Format.FIXSTR_LAST) {
      return this.readString(head & Format.FIXSTR_LENGTH_MASK);
    }
    switch (head) {
      case Format.STR_8:
        return this.readString(this.readLength(Format.ONE_BYTE));
      case Format.STR_16:
        return this.readString(this.readLength(Format.TWO_BYTES));
      case Format.STR_32:
        return this.readString(this.readLength(Format.FOUR_BYTES));
      default:
        throw invalid("MessagePack map keys must be strings");
    }
  }

  /**
   * A str's UTF-8 bytes, decoded strictly (malformed bytes are an error, never U+FFFD) and
   * exactly (a leading U+FEFF is a character of the string, not a mark to drop).
   */
  private readString(byteLength: number): string {
    const start = this.advance(byteLength);
    if (!this.building) return "";
    const bytes = this.bytes;
    if (byteLength <= MAX_HAND_DECODED_STRING_BYTES) {
      let text = "";
      let index = start;
      const end = start + byteLength;
      for (; index < end; index++) {
        const byte = bytes[index] ?? FIRST_NON_ASCII_BYTE;
        if (byte >= FIRST_NON_ASCII_BYTE) break;
        text += String.fromCharCode(byte);
      }
      if (index === end) return text;
    }
    return decodeStrictUtf8(bytes.subarray(start, start + byteLength), {
      keepByteOrderMark: true,
    });
  }

  /** Reads an unsigned big-endian length or count of 1, 2 or 4 bytes. */
  private readLength(byteCount: number): number {
    const at = this.advance(byteCount);
    if (byteCount === Format.ONE_BYTE) return this.view.getUint8(at);
    if (byteCount === Format.TWO_BYTES) return this.view.getUint16(at);
    return this.view.getUint32(at);
  }

  /** Moves past `byteCount` bytes that must be there; returns where they start. */
  private advance(byteCount: number): number {
    this.ensureAvailable(byteCount);
    const at = this.position;
    this.position += byteCount;
    return at;
  }

  private ensureAvailable(byteCount: number): void {
    if (this.bytes.byteLength - this.position < byteCount) {
      throw invalid("MessagePack data is truncated");
    }
  }

  private countValue(): void {
    this.values++;
    checkDictValues(this.values, this.limits);
  }
}

/** [C-FINITE] NaN and the infinities are refused. */
function finite(value: number): number {
  if (!Number.isFinite(value)) {
    throw invalid(`floats must be finite, not ${String(value)}`);
  }
  return value;
}

function extensionRefused(): CodecError {
  return invalid(
    "MessagePack extension types (including timestamps) are not part of the dictionary model",
  );
}

function invalid(message: string): CodecError {
  return new CodecError(ErrorCode.DICT_INVALID, message);
}
