/**
 * Length-prefixed frames for the baseline programs: a u32 big-endian length, then that
 * many payload bytes. The parser takes chunks as the network splits them.
 */

export const FRAME_HEADER_BYTES = 4;

/** Each frame is acknowledged with its sequence number as a u32 big-endian. */
export const ACK_BYTES = 4;

/** Largest payload the baseline server accepts (the same bound gb puts on a dictionary). */
export const MAX_FRAME_PAYLOAD_BYTES = 16 * 1024 * 1024;

export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** Splits a byte stream into frame payloads, whatever the chunk boundaries. */
export class FrameParser {
  readonly #maxPayloadBytes: number;
  #pending: Buffer = Buffer.alloc(0);

  constructor(maxPayloadBytes = MAX_FRAME_PAYLOAD_BYTES) {
    this.#maxPayloadBytes = maxPayloadBytes;
  }

  /**
   * Takes the next chunk and returns the payloads it completes (views into the data).
   * @throws RangeError when a frame announces more than the maximum payload.
   */
  push(chunk: Uint8Array): Buffer[] {
    const data =
      this.#pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([this.#pending, chunk]);
    const payloads: Buffer[] = [];
    let offset = 0;
    while (data.length - offset >= FRAME_HEADER_BYTES) {
      const length = data.readUInt32BE(offset);
      if (length > this.#maxPayloadBytes) {
        throw new RangeError(`frame of ${length} bytes exceeds ${this.#maxPayloadBytes}`);
      }
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > data.length) break;
      payloads.push(data.subarray(offset + FRAME_HEADER_BYTES, end));
      offset = end;
    }
    // Copy the remainder so that a small leftover does not keep a large chunk alive.
    this.#pending = Buffer.from(data.subarray(offset));
    return payloads;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
