import type { FrameLimits } from "../framing/frame-parser.js";

/** The protocol version this implementation speaks. PROTOCOL.md [P-PREAMBLE]. */
export const PROTOCOL_VERSION = 2;

/** Frame type bytes. PROTOCOL.md, "Frame types". */
export const FrameType = {
  HELLO: 0x01,
  ITEM: 0x02,
  CHUNK: 0x03,
  LAST_CHUNK: 0x04,
  RECEIPT: 0x05,
  ERROR: 0x06,
  HANDSHAKE: 0x07,
  /** [M-OFFER] what the server holds of an item that asked to resume. */
  OFFER: 0x08,
  /** [M-RESUME] where the client's data for that item starts. */
  RESUME: 0x09,
  /** [M-HAVE] which entries of a tree the client asks the server about. */
  HAVE: 0x0a,
  /** [M-HELD] the server's answer to a HAVE: per entry, its stored receipt or null. */
  HELD: 0x0b,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Largest JSON control message (HELLO, ITEM, RECEIPT, ERROR, OFFER, RESUME), in bytes. */
export const MAX_CONTROL_FRAME_BYTES = 16 * 1024;

/**
 * Largest RECEIPT payload, in bytes [F-LIMIT]: a batch's receipt holds one receipt per
 * file, up to 32 of them with their stored paths [T-BATCH-RECEIPT].
 */
export const MAX_RECEIPT_FRAME_BYTES = 1024 * 1024;

/**
 * Largest HELD payload, in bytes [M-HELD]: 200 receipts of ordinary names fit many times
 * over; a receipt that would not fit is answered null (the entry is sent again).
 */
export const MAX_HELD_FRAME_BYTES = 1024 * 1024;

/**
 * Largest CHUNK / LAST_CHUNK payload, in bytes: 64 KiB of item data, plaintext in both
 * modes (an encrypted session seals the frame stream, not the chunks) [F-CHUNK].
 */
export const MAX_CHUNK_FRAME_BYTES = 64 * 1024;

/**
 * Largest HANDSHAKE payload, in bytes: a Noise message [N-MSG-MAX]. This version's
 * messages are 48 bytes [H-MESSAGES]; the limit leaves room for later patterns.
 */
export const MAX_HANDSHAKE_FRAME_BYTES = 65_535;

/** Longest item `name` in metadata and receipts, in UTF-8 bytes [J-STRING]. */
export const MAX_NAME_BYTES = 1024;

/** Most components in a tree entry's `path`: how deep a tree may go [T-PATH]. */
export const MAX_TREE_DEPTH = 64;

/** Longest component of a tree entry's `path`, in UTF-8 bytes (a file system's NAME_MAX) [T-PATH]. */
export const MAX_PATH_COMPONENT_BYTES = 255;

/** Longest tree entry `path`, its components and one byte between each two, in UTF-8 bytes [T-PATH]. */
export const MAX_TREE_PATH_BYTES = 4096;

/** Most entries in one tree [T-LIMIT]. */
export const MAX_TREE_ENTRIES = 1_000_000;

/** Longest HELLO `server` text, in UTF-8 bytes [J-STRING]. */
export const MAX_SERVER_NAME_BYTES = 1024;

/** Longest receipt `savedAs`, in UTF-8 bytes [J-STRING]. */
export const MAX_SAVED_AS_BYTES = 4096;

/** Longest ERROR `code`, in UTF-8 bytes [J-STRING]. */
export const MAX_ERROR_CODE_BYTES = 64;

/** Longest ERROR `message`, in UTF-8 bytes [J-STRING]; longer text is cut [M-ERROR-CUT]. */
export const MAX_ERROR_MESSAGE_BYTES = 4096;

/** Largest integer in a control message, 2^53 - 1: exact in every JSON parser [J-INTEGER]. */
export const MAX_SAFE_COUNT = Number.MAX_SAFE_INTEGER;

/** What a server accepts from a client [F-LIMIT]. */
export const CLIENT_FRAME_LIMITS: FrameLimits = new Map([
  [FrameType.HANDSHAKE, MAX_HANDSHAKE_FRAME_BYTES],
  [FrameType.ITEM, MAX_CONTROL_FRAME_BYTES],
  [FrameType.CHUNK, MAX_CHUNK_FRAME_BYTES],
  [FrameType.LAST_CHUNK, MAX_CHUNK_FRAME_BYTES],
  [FrameType.RESUME, MAX_CONTROL_FRAME_BYTES],
  [FrameType.HAVE, MAX_CONTROL_FRAME_BYTES],
]);

/** What a client accepts from a server [F-LIMIT]. */
export const SERVER_FRAME_LIMITS: FrameLimits = new Map([
  [FrameType.HELLO, MAX_CONTROL_FRAME_BYTES],
  [FrameType.RECEIPT, MAX_RECEIPT_FRAME_BYTES],
  [FrameType.ERROR, MAX_CONTROL_FRAME_BYTES],
  [FrameType.HANDSHAKE, MAX_HANDSHAKE_FRAME_BYTES],
  [FrameType.OFFER, MAX_CONTROL_FRAME_BYTES],
  [FrameType.HELD, MAX_HELD_FRAME_BYTES],
]);
