/**
 * The `msgpack` format's encoder ([C-MSGPACK]): standard MessagePack that any MessagePack
 * implementation reads, written here rather than by a library because none we know of
 * writes a map in an order other than a plain object's or tells an integer from a float.
 */

import { CodecError, ErrorCode } from "../errors.js";
import type { DictObject, DictValue } from "./dict-value.js";
import * as Format from "./msgpack-format.js";

/** First size of the output buffer; it doubles as needed. */
const INITIAL_BUFFER_BYTES = 256;
/** A head byte and the widest length or count after it. */
const MAX_HEAD_BYTES = 1 + Format.FOUR_BYTES;

/** A lone surrogate: in a `u` regex a well-formed pair is one code point, not Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Encodes an already checked exact dictionary as MessagePack:
 * - [C-INT] an integer (bigint) as the smallest int or uint that holds it;
 * - [C-FLOAT] a float (number) always as float 64, so that it stays a float;
 * - [C-ORDER] map entries in the order written.
 *
 * Callers outside this folder use `encodeDict`, which checks the tree and applies the size
 * limit.
 *
 * @throws {@link CodecError} `DICT_INVALID` when an integer is outside −2^63 .. 2^64 − 1, or a
 *   key or string holds a lone surrogate, which UTF-8 (so MessagePack str) cannot carry.
 */
export function encodeMsgpackDict(value: DictObject): Uint8Array {
  const writer = new MsgpackWriter();
  writer.map(value);
  return writer.bytes();
}

class MsgpackWriter {
  private buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  private position = 0;

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.position);
  }

  map(map: DictObject): void {
    this.head(map.size, Format.FIXMAP_FIRST, Format.MAP_16, Format.MAP_32);
    for (const [key, item] of map) {
      this.string(key);
      this.value(item);
    }
  }

  private value(value: DictValue): void {
    switch (typeof value) {
      case "string":
        this.string(value);
        return;
      case "bigint":
        this.integer(value);
        return;
      case "number":
        this.reserve(1 + Format.EIGHT_BYTES);
        this.buffer[this.position++] = Format.FLOAT_64;
        this.position = this.buffer.writeDoubleBE(value, this.position);
        return;
      case "boolean":
        this.byte(value ? Format.TRUE : Format.FALSE);
        return;
      default:
        if (value === null) this.byte(Format.NIL);
        else if (value instanceof Map) this.map(value);
        else {
          this.head(value.length, Format.FIXARRAY_FIRST, Format.ARRAY_16, Format.ARRAY_32);
          for (const item of value) this.value(item);
        }
    }
  }

  /** A map or array head: the fix form, or the 16- or 32-bit one. */
  private head(count: number, fixFirst: number, head16: number, head32: number): void {
    this.reserve(MAX_HEAD_BYTES);
    const buffer = this.buffer;
    if (count <= Format.FIX_COUNT_MAX) buffer[this.position++] = fixFirst | count;
    else if (count <= Format.UINT_16_MAX) {
      buffer[this.position++] = head16;
      this.position = buffer.writeUInt16BE(count, this.position);
    } else {
      buffer[this.position++] = head32;
      this.position = buffer.writeUInt32BE(count, this.position);
    }
  }

  private string(value: string): void {
    if (LONE_SURROGATE.test(value)) {
      throw new CodecError(
        ErrorCode.DICT_INVALID,
        "a string holds a lone UTF-16 surrogate, which MessagePack (UTF-8) cannot carry",
        { hint: "send this dictionary as json or xml" },
      );
    }
    const length = Buffer.byteLength(value, "utf8");
    this.reserve(MAX_HEAD_BYTES + length);
    const buffer = this.buffer;
    if (length <= Format.FIXSTR_LENGTH_MAX) buffer[this.position++] = Format.FIXSTR_FIRST | length;
    else if (length <= Format.UINT_8_MAX) {
      buffer[this.position++] = Format.STR_8;
      buffer[this.position++] = length;
    } else if (length <= Format.UINT_16_MAX) {
      buffer[this.position++] = Format.STR_16;
      this.position = buffer.writeUInt16BE(length, this.position);
    } else {
      buffer[this.position++] = Format.STR_32;
      this.position = buffer.writeUInt32BE(length, this.position);
    }
    this.position += buffer.write(value, this.position, length, "utf8");
  }

  /** [C-INT] the smallest form: fixint, then uint 8/16/32/64 or int 8/16/32/64. */
  private integer(value: bigint): void {
    if (value < Format.INT_64_MIN || value > Format.UINT_64_MAX) {
      throw new CodecError(
        ErrorCode.DICT_INVALID,
        `an integer of ${(value < 0n ? -value : value).toString(2).length} bits is outside ` +
          "MessagePack's range (-2^63 .. 2^64-1); json and xml carry integers of any size",
        { hint: "send this dictionary as json or xml, which carry integers of any size" },
      );
    }
    this.reserve(1 + Format.EIGHT_BYTES);
    const buffer = this.buffer;
    if (value >= 0n) {
      if (value > BigInt(Format.UINT_32_MAX)) {
        buffer[this.position++] = Format.UINT_64;
        this.position = buffer.writeBigUInt64BE(value, this.position);
        return;
      }
      const small = Number(value);
      if (small <= Format.POSITIVE_FIXINT_LAST) buffer[this.position++] = small;
      else if (small <= Format.UINT_8_MAX) {
        buffer[this.position++] = Format.UINT_8;
        buffer[this.position++] = small;
      } else if (small <= Format.UINT_16_MAX) {
        buffer[this.position++] = Format.UINT_16;
        this.position = buffer.writeUInt16BE(small, this.position);
      } else {
        buffer[this.position++] = Format.UINT_32;
        this.position = buffer.writeUInt32BE(small, this.position);
      }
      return;
    }
    if (value < BigInt(Format.INT_32_MIN)) {
      buffer[this.position++] = Format.INT_64;
      this.position = buffer.writeBigInt64BE(value, this.position);
      return;
    }
    const small = Number(value);
    if (small >= Format.NEGATIVE_FIXINT_MIN) {
      this.position = buffer.writeInt8(small, this.position);
    } else if (small >= Format.INT_8_MIN) {
      buffer[this.position++] = Format.INT_8;
      this.position = buffer.writeInt8(small, this.position);
    } else if (small >= Format.INT_16_MIN) {
      buffer[this.position++] = Format.INT_16;
      this.position = buffer.writeInt16BE(small, this.position);
    } else {
      buffer[this.position++] = Format.INT_32;
      this.position = buffer.writeInt32BE(small, this.position);
    }
  }

  private byte(value: number): void {
    this.reserve(1);
    this.buffer[this.position++] = value;
  }

  /** Makes room for `byteCount` more bytes. */
  private reserve(byteCount: number): void {
    const needed = this.position + byteCount;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const larger = Buffer.allocUnsafe(size);
    this.buffer.copy(larger, 0, 0, this.position);
    this.buffer = larger;
  }
}
