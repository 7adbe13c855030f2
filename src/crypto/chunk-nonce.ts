import { ErrorCode, InternalError } from "../errors.js";
import { NONCE_BYTES } from "./constants.js";

/** Value XORed into the last nonce byte of the final chunk. */
const LAST_CHUNK_FLAG = 0x01;

/** Offset of the last-chunk flag byte; bytes before it hold the 11-byte chunk counter. */
const FLAG_OFFSET = NONCE_BYTES - 1;

/** 2^32, to split the counter into 32-bit words for the Buffer integer helpers. */
const UINT32_RANGE = 0x1_0000_0000;

/** Bytes in one 32-bit word. */
const UINT32_BYTES = 4;

/** Offset of the low 32 bits of the counter (big-endian, ending just before the flag). */
const COUNTER_LOW_OFFSET = FLAG_OFFSET - UINT32_BYTES;

/** Offset of the next 32 bits of the counter. */
const COUNTER_HIGH_OFFSET = COUNTER_LOW_OFFSET - UINT32_BYTES;

/**
 * Largest chunk index this implementation can number. The counter field has 88 bits but
 * indexes are JavaScript numbers; 2^53 chunks of 64 KiB is far beyond any real item.
 */
export const MAX_CHUNK_INDEX = Number.MAX_SAFE_INTEGER;

/**
 * Writes the nonce of chunk `index` into `target` (12 bytes):
 * `baseNonce XOR (index as an 11-byte big-endian integer || lastFlag)`, where lastFlag is
 * 0x01 for the final chunk and 0x00 otherwise. This is the STREAM construction of age's
 * chunked encryption, with the base nonce XORed in because our key is per item rather
 * than per file and the base nonce comes from the same derivation.
 *
 * The flag in the nonce is what makes truncation detectable: a non-final chunk cannot
 * be authenticated as the final one.
 *
 * @throws {GbError} INTERNAL when `index` is not an integer in 0..MAX_CHUNK_INDEX.
 */
export function writeChunkNonce(
  target: Buffer,
  baseNonce: Buffer,
  index: number,
  last: boolean,
): void {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_CHUNK_INDEX) {
    throw new InternalError(ErrorCode.INTERNAL, `chunk index ${index} is out of range`);
  }
  baseNonce.copy(target, 0, 0, NONCE_BYTES);
  // index < 2^53, so it fits in the low 64 bits; the top 3 counter bytes stay zero.
  const low = index % UINT32_RANGE;
  const high = Math.floor(index / UINT32_RANGE);
  // `>>> 0` turns the signed result of `^` back into an unsigned 32-bit value.
  target.writeUInt32BE((target.readUInt32BE(COUNTER_LOW_OFFSET) ^ low) >>> 0, COUNTER_LOW_OFFSET);
  target.writeUInt32BE(
    (target.readUInt32BE(COUNTER_HIGH_OFFSET) ^ high) >>> 0,
    COUNTER_HIGH_OFFSET,
  );
  if (last) target.writeUInt8(target.readUInt8(FLAG_OFFSET) ^ LAST_CHUNK_FLAG, FLAG_OFFSET);
}
