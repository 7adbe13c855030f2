import {
  ErrorCode,
  IntegrityError,
  InternalError,
  ProtocolError,
  errorFromPeer,
  type GbError,
} from "../../errors.js";
import { FrameType } from "../../protocol/constants.js";
import {
  decodeAnswerReceipt,
  decodeError,
  type BatchReceiptBody,
  type ReceiptBody,
} from "../../protocol/messages.js";
import type { SentItem } from "./client-options.js";
import type { ItemSlot } from "./item-slot.js";

/** What a frame from the server, after HELLO, means for the items in flight. */
export type Answer =
  /** The item was stored, and its receipt matched what was sent. */
  | { readonly slot: ItemSlot; readonly stored: SentItem }
  /** The item failed: the server refused it, or its receipt did not hold up. */
  | { readonly slot: ItemSlot; readonly failed: GbError }
  /** [T-BATCH-RECEIPT] A batch was answered: per file, stored (its receipt matched) or failed. */
  | { readonly slot: ItemSlot; readonly files: readonly (SentItem | GbError)[] }
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
    const message = decodeAnswerReceipt(payload);
    const slot = answered(oldest, message.id, "a receipt");
    if (!slot.sent) {
      throw new ProtocolError(
        ErrorCode.UNEXPECTED_FRAME,
        `a receipt for item ${slot.id} before it was sent`,
      );
    }
    if ("batch" in message) return checkBatchReceipt(slot, message.batch, encrypted);
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
  if (slot.batch !== undefined) {
    return { slot, failed: mismatch(slot, `a receipt of kind ${body.kind}`) };
  }
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

/**
 * [T-BATCH-RECEIPT] A batch's receipt: its bytes are what was sent, and it answers each
 * file, in order, with a receipt that [K-RECEIPT-CHECK] holds up for that file alone, or
 * with the file's failure.
 * @throws {ProtocolError} MALFORMED_MESSAGE when it does not answer every file.
 */
function checkBatchReceipt(
  slot: ItemSlot,
  body: BatchReceiptBody<ReceiptBody>,
  encrypted: boolean,
): Answer {
  const files = slot.batch;
  if (files !== undefined && body.files.length !== files.length) {
    throw new ProtocolError(
      ErrorCode.MALFORMED_MESSAGE,
      `the receipt of item ${slot.id} answers ${body.files.length} files of ${files.length}`,
    );
  }
  if (files === undefined || body.bytes !== slot.bytes) {
    return { slot, failed: mismatch(slot, `a batch of ${body.bytes} bytes`) };
  }
  const answers = files.map((file, index): SentItem | GbError => {
    const answer = body.files[index] as ReceiptBody | { code: string; message: string };
    if ("code" in answer) {
      return errorFromPeer(
        answer.code,
        `the server refused ${file.name}: ${answer.message}`,
        slot.id,
      );
    }
    const own = file.sha256;
    if (own === undefined && !encrypted) {
      throw new InternalError(ErrorCode.INTERNAL, `${file.name} went out without its SHA-256`);
    }
    if (
      answer.kind !== "file" ||
      answer.bytes !== file.size ||
      (own !== undefined && own !== answer.sha256)
    ) {
      const sent = own === undefined ? "" : `, sha256 ${own}`;
      return new IntegrityError(
        ErrorCode.INTEGRITY_MISMATCH,
        `the server's receipt for ${file.name} does not match what was sent ` +
          `(sent file, ${file.size} bytes${sent}; receipt says ${answer.kind}, ` +
          `${answer.bytes} bytes, sha256 ${answer.sha256})`,
        { itemId: slot.id },
      );
    }
    const sha256 = own ?? answer.sha256;
    return {
      id: slot.id,
      kind: "file",
      name: file.name,
      encrypted,
      bytes: file.size,
      sha256,
      receipt: {
        kind: "file",
        name: answer.name,
        bytes: answer.bytes,
        sha256,
        savedAs: answer.savedAs,
      },
    };
  });
  return { slot, files: answers };
}

/** The answer did not fit the item sent: a batch's for one item, or one item's for a batch. */
function mismatch(slot: ItemSlot, says: string): IntegrityError {
  return new IntegrityError(
    ErrorCode.INTEGRITY_MISMATCH,
    `the server's receipt for ${slot.meta.name} does not match what was sent ` +
      `(sent ${slot.batch === undefined ? slot.meta.kind : "a batch of files"}, ${slot.bytes} bytes; receipt says ${says})`,
    { itemId: slot.id },
  );
}
