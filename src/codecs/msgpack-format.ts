/**
 * MessagePack format bytes and ranges (https://github.com/msgpack/msgpack/blob/master/
 * spec.md, section "Formats"), shared by the `msgpack` encoder and decoder.
 */

export const POSITIVE_FIXINT_LAST = 0x7f;
export const FIXMAP_FIRST = 0x80;
export const FIXMAP_LAST = 0x8f;
export const FIXARRAY_FIRST = 0x90;
export const FIXARRAY_LAST = 0x9f;
export const FIXSTR_FIRST = 0xa0;
export const FIXSTR_LAST = 0xbf;
export const NIL = 0xc0;
export const NEVER_USED = 0xc1;
export const FALSE = 0xc2;
export const TRUE = 0xc3;
export const BIN_8 = 0xc4;
export const BIN_16 = 0xc5;
export const BIN_32 = 0xc6;
export const EXT_8 = 0xc7;
export const EXT_16 = 0xc8;
export const EXT_32 = 0xc9;
export const FLOAT_32 = 0xca;
export const FLOAT_64 = 0xcb;
export const UINT_8 = 0xcc;
export const UINT_16 = 0xcd;
export const UINT_32 = 0xce;
export const UINT_64 = 0xcf;
export const INT_8 = 0xd0;
export const INT_16 = 0xd1;
export const INT_32 = 0xd2;
export const INT_64 = 0xd3;
export const FIXEXT_1 = 0xd4;
export const FIXEXT_16 = 0xd8;
export const STR_8 = 0xd9;
export const STR_16 = 0xda;
export const STR_32 = 0xdb;
export const ARRAY_16 = 0xdc;
export const ARRAY_32 = 0xdd;
export const MAP_16 = 0xde;
export const MAP_32 = 0xdf;
export const NEGATIVE_FIXINT_FIRST = 0xe0;

/** Low bits of a fixmap or fixarray byte: its element count. */
export const FIX_COUNT_MASK = 0x0f;
/** Low bits of a fixstr byte: its length in bytes. */
export const FIXSTR_LENGTH_MASK = 0x1f;
/** Most elements (or bytes, for a str) a fix form holds. */
export const FIX_COUNT_MAX = 0x0f;
export const FIXSTR_LENGTH_MAX = 0x1f;

/** Smallest value a negative fixint holds. */
export const NEGATIVE_FIXINT_MIN = -32;

export const UINT_8_MAX = 0xff;
export const UINT_16_MAX = 0xffff;
export const UINT_32_MAX = 0xffff_ffff;
export const INT_8_MIN = -0x80;
export const INT_16_MIN = -0x8000;
export const INT_32_MIN = -0x8000_0000;

/** [C-INT] the int/uint family: −2^63 .. 2^64 − 1. */
export const INT_64_MIN = -(2n ** 63n);
export const UINT_64_MAX = 2n ** 64n - 1n;

export const ONE_BYTE = 1;
export const TWO_BYTES = 2;
export const FOUR_BYTES = 4;
export const EIGHT_BYTES = 8;
