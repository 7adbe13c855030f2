/**
 * A frame is `type (u8) | length (u32, big-endian) | payload (length bytes)`.
 * PROTOCOL.md, section "Frames" [F-HEADER].
 */

/** Bytes in a frame header: one type byte and a 32-bit big-endian payload length. */
export const FRAME_HEADER_BYTES = 5;

/** A complete frame as read from the wire. `payload` may be a view into a larger buffer. */
export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

/**
 * A frame as the parser returns it: its payload also as the received pieces it spans,
 * so the parser never copies a payload split across socket reads into one buffer. A
 * consumer that needs it contiguous joins it: reading `payload` does (once, when there
 * are several parts), and so does the chunk opener, to decrypt a sealed chunk in one call.
 */
export interface ParsedFrame extends Frame {
  /** The payload as views into the received buffers, in order; empty for an empty payload. */
  readonly parts: readonly Buffer[];
  /** The payload's length in bytes. */
  readonly length: number;
}

/**
 * Encodes the 5-byte header for a frame whose payload is `payloadBytes` long.
 * The payload is written separately so that large payloads are never copied.
 */
export function encodeFrameHeader(type: number, payloadBytes: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payloadBytes, 1);
  return header;
}

/** Encodes a whole frame into one buffer; for small control frames and tests. */
export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}
