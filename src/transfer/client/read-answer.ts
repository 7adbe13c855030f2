import {
  ErrorCode,
  IntegrityError,
  InternalError,
  ProtocolError,
  errorFromPeer,
  type GbError,
} from "../../errors.js";
import { FrameType } from "../../protocol/constants.js";
import { decodeError, decodeReceipt, type ReceiptBody } from "../../protocol/messages.js";
import type { SentItem } from "./client-options.js";
import type { ItemSlot } from "./item-slot.js";

/** What a frame from the server, after HELLO, means for the items in flight. */
export type Answer =
  /** The item was stored, and its receipt matched what was sent. */
  | { readonly slot: ItemSlot; readonly stored: SentItem }
  /** The item failed: the server refused it, or its receipt did not hold up. */
  | { readonly slot: ItemSlot; readonly failed: GbError }
  /** The server refused the connection (an ERROR without an id). */
  | { readonly connectionFailed: GbError };

/**
 * Reads a frame the server sent after HELLO: a RECEIPT or an ERROR. `oldest` is the
 * oldest item still awaiting its answer, the only one the server may answer [K-ORDER].
 *
 * @throws {ProtocolError} UNEXPECTED_FRAME for another frame type, an answer for
 *   another item than `oldest` [K-ORDER], or a receipt for an item not yet all sent.
 * @throws {ProtocolError} MALFORMED_MESSAGE for a message of the wrong shape.
 * @throws {InternalError} INTERNAL when, on a plain connection, an item was sent without
 *   its SHA-256 (a bug: the receipt could not be checked).
 * @param encrypted whether the connection is an encrypted session, for the result.
 */
export function readAnswer(
  type: number,
  payload: Buffer,
  oldest: ItemSlot | undefined,
  encrypted: boolean,
): Answer {
  if (type === FrameType.RECEIPT) {
    const message = decodeReceipt(payload);
    const slot = answered(oldest, message.id, "a receipt");
    if (!slot.sent) {
      throw new ProtocolError(
        ErrorCode.UNEXPECTED_FRAME,
        `a receipt for item ${slot.id} before it was sent`,
      );
    }
    return checkReceipt(slot, message.receipt, encrypted);
  }
  if (type === FrameType.ERROR) {
    const message = decodeError(payload);
    if (message.id === undefined) {
      const text = `the server refused the connection: ${message.message}`;
      return { connectionFailed: errorFromPeer(message.code, text, undefined) };
    }
    // An item may be refused before it was all sent: the client then ends it [K-ABORT].
    const slot = answered(oldest, message.id, "an error");
    const text = `the server refused ${slot.meta.name}: ${message.message}`;
    return { slot, failed: errorFromPeer(message.code, text, message.id) };
  }
  throw new ProtocolError(
    ErrorCode.UNEXPECTED_FRAME,
    `unexpected frame type ${type} from the server`,
  );
}

/**
 * [K-ORDER] The server answers items strictly in item order: an answer names the oldest
 * item still awaiting one, or the server broke the protocol.
 */
function answered(oldest: ItemSlot | undefined, id: number, what: string): ItemSlot {
  if (oldest === undefined) {
    throw new ProtocolError(
      ErrorCode.UNEXPECTED_FRAME,
      `${what} for item ${id}, but no item awaits an answer`,
    );
  }
  if (oldest.id !== id) {
    throw new ProtocolError(
      ErrorCode.UNEXPECTED_FRAME,
      `${what} for item ${id} while item ${oldest.id} awaits its answer first`,
    );
  }
  return oldest;
}

/**
 * [K-RECEIPT-CHECK] A receipt confirms the item only when its `bytes` and `kind` are what
 * was sent, and, on a plain connection, its `sha256` is the SHA-256 the client computed
 * of what it sent. [K-RECEIPT-SESSION] In an encrypted session the records already
 * proved that the server received exactly the bytes sent, so the client computes no
 * digest of its own: the item's SHA-256 is the one the server computed of what it
 * received and stored, which reaches the client authenticated.
 */
function checkReceipt(slot: ItemSlot, body: ReceiptBody, encrypted: boolean): Answer {
  const own = slot.sha256;
  if (own === undefined && !encrypted) {
    throw new InternalError(
      ErrorCode.INTERNAL,
      `item ${slot.id} went out on a plain connection without its SHA-256`,
    );
  }
  const digestDiffers = own !== undefined && own !== body.sha256;
  if (body.bytes !== slot.bytes || body.kind !== slot.meta.kind || digestDiffers) {
    const sent = own === undefined ? "" : `, sha256 ${own}`;
    return {
      slot,
      failed: new IntegrityError(
        ErrorCode.INTEGRITY_MISMATCH,
        `the server's receipt for ${slot.meta.name} does not match what was sent ` +
          `(sent ${slot.meta.kind}, ${slot.bytes} bytes${sent}; ` +
          `receipt says ${body.kind}, ${body.bytes} bytes, sha256 ${body.sha256})`,
        { itemId: slot.id },
      ),
    };
  }
  const sha256 = own ?? body.sha256;
  // The result outlives the receipt it was read from: it shares our own copies of the
  // strings the receipt repeats, and the receipt's own go with it.
  const name = body.name === slot.meta.name ? slot.meta.name : body.name;
  return {
    slot,
    stored: {
      id: slot.id,
      kind: slot.meta.kind,
      name: slot.meta.name,
      encrypted,
      bytes: slot.bytes,
      sha256,
      ...(slot.resumed === undefined ? {} : { resumed: slot.resumed }),
      receipt: {
        kind: slot.meta.kind,
        name,
        bytes: body.bytes,
        sha256,
        savedAs: body.savedAs,
        // [M-RECEIPT-STORED] what the stored file of a dictionary hashes to.
        ...(body.storedSha256 === undefined ? {} : { storedSha256: body.storedSha256 }),
      },
    },
  };
}
