/**
 * Cuts one direction of a version-2 connection into the units an attacker on the path
 * can act on: its cleartext opening (the preamble, then a number of whole frames: the
 * client's HANDSHAKE; the server's HELLO and HANDSHAKE) and then its records
 * [R-RECORD]. Shared by the in-process relay of the integration tests and the relay
 * process that sits between two network namespaces (mitm-relay.ts).
 */
import { RECORD_HEADER_BYTES } from "../../src/crypto/constants.js";
import { FRAME_HEADER_BYTES } from "../../src/framing/frame.js";
import { PREAMBLE_BYTES } from "../../src/framing/preamble.js";

/** What a hook may do with the direction it was called for. */
export interface Direction {
  /** Sends bytes on, as they are. */
  forward(bytes: Uint8Array): void;
  /** Ends this direction (FIN), as a peer that stopped sending would. */
  end(): void;
}

/** Called with each whole record (header and ciphertext) and its index from 0. */
export type RecordHook = (record: Buffer, index: number, direction: Direction) => void;

/** Frames before the records: the client's HANDSHAKE; the server's HELLO and HANDSHAKE. */
export const CLIENT_OPENING_FRAMES = 1;
export const SERVER_OPENING_FRAMES = 2;

/**
 * Cuts one direction into its opening (a preamble, then `openingFrames` frames), each
 * unit handed to `opening` and forwarded as soon as it is whole, and then records, each
 * handed to `onRecord` (or forwarded). Returns the function to feed with the bytes.
 */
export function splitter(
  openingFrames: number,
  direction: Direction,
  opening: (bytes: Buffer) => Buffer,
  onRecord: RecordHook | undefined,
): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let unitsLeft = openingFrames + 1;
  let index = 0;
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (unitsLeft > 0) {
        const preamble = unitsLeft === openingFrames + 1;
        if (!preamble && pending.length < FRAME_HEADER_BYTES) return;
        const length = preamble ? PREAMBLE_BYTES : FRAME_HEADER_BYTES + pending.readUInt32BE(1);
        if (pending.length < length) return;
        direction.forward(opening(pending.subarray(0, length)));
        pending = pending.subarray(length);
        unitsLeft--;
        continue;
      }
      if (pending.length < RECORD_HEADER_BYTES) return;
      const length = RECORD_HEADER_BYTES + pending.readUInt16BE(0);
      if (pending.length < length) return;
      const record = Buffer.from(pending.subarray(0, length));
      pending = pending.subarray(length);
      if (onRecord === undefined) direction.forward(record);
      else onRecord(record, index, direction);
      index++;
    }
  };
}
