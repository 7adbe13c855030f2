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
 * Encodes a whole frame into one buffer: [F-HEADER] written out once, for peers that
 * build frames by hand (the test suite's raw clients and servers). {@link FrameWriter}
 * stages its frames itself, without a buffer per frame.
 */
export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}
