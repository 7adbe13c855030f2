import { isDictFormat, type DictFormat } from "../codecs/dict-format.js";
import { ITEM_SALT_BYTES, KEY_ID_BYTES, SCRYPT_SALT_BYTES } from "../crypto/constants.js";
import { ErrorCode, ProtocolError } from "../errors.js";
import {
  MAX_CONTROL_FRAME_BYTES,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_NAME_LENGTH,
  MAX_SAFE_COUNT,
} from "./constants.js";
import {
  encodeJsonPayload,
  parseJsonPayload,
  readBase64,
  readBoolean,
  readCount,
  readHex,
  readNullableCount,
  readNullableString,
  readObject,
  readOptionalCount,
  readString,
  asRecord,
} from "./json-fields.js";

/** SERVER → CLIENT, once, right after the server's preamble. PROTOCOL.md [M-HELLO]. */
export interface Hello {
  /** Free text naming the server software, e.g. "gb-transfer/1.0.0". */
  readonly server: string;
  /** HKDF-derived identifier of the server's key; never the key itself. */
  readonly keyId: Buffer;
  /** Salt a client uses to derive the key from a passphrase with scrypt. */
  readonly scryptSalt: Buffer;
}

/** What an item is. Sent in the clear, or sealed inside an encrypted ITEM. [M-META] */
export type ItemMeta =
  | {
      readonly kind: "dict";
      readonly format: DictFormat;
      readonly name: string;
      readonly size: number;
    }
  | { readonly kind: "file"; readonly name: string; readonly size: number | null };

/** CLIENT → SERVER: announces the next item. [M-ITEM] */
export type ItemHeader =
  | { readonly id: number; readonly encrypted: false; readonly meta: ItemMeta }
  | {
      readonly id: number;
      readonly encrypted: true;
      readonly salt: Buffer;
      readonly sealedMeta: Buffer;
    };

/** What the server stored for an item. [M-RECEIPT] */
export interface ReceiptBody {
  readonly kind: "dict" | "file";
  /** The name the client gave the item. */
  readonly name: string;
  /** Bytes of item payload received (plaintext), and their SHA-256 (lower-case hex). */
  readonly bytes: number;
  readonly sha256: string;
  /** Where the server stored it, relative to its save directory; null when not saved. */
  readonly savedAs: string | null;
}

/** SERVER → CLIENT: the result of one item. Sealed when the item was encrypted. */
export type ReceiptMessage =
  | { readonly id: number; readonly encrypted: false; readonly receipt: ReceiptBody }
  | { readonly id: number; readonly encrypted: true; readonly sealedReceipt: Buffer };

/** SERVER → CLIENT: a refusal. With `id` the item failed and the connection goes on; without, the connection ends. [M-ERROR] */
export interface ErrorMessage {
  readonly code: string;
  readonly message: string;
  readonly id: number | undefined;
}

// Sealed blobs are small JSON documents plus a tag; bound them by the frame limit.
const MAX_SEALED_BYTES = MAX_CONTROL_FRAME_BYTES;

export function encodeHello(hello: Hello): Buffer {
  return encodeJsonPayload({
    server: hello.server,
    keyId: hello.keyId.toString("hex"),
    scryptSalt: hello.scryptSalt.toString("hex"),
  });
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeHello(payload: Uint8Array): Hello {
  const record = parseJsonPayload(payload, "HELLO");
  return {
    server: readString(record, "server", MAX_NAME_LENGTH),
    keyId: readHex(record, "keyId", KEY_ID_BYTES),
    scryptSalt: readHex(record, "scryptSalt", SCRYPT_SALT_BYTES),
  };
}

/** Encodes item metadata as the JSON object of [M-META]. */
export function encodeMeta(meta: ItemMeta): Buffer {
  return encodeJsonPayload(metaToJson(meta));
}

function metaToJson(meta: ItemMeta): object {
  return meta.kind === "dict"
    ? { kind: "dict", format: meta.format, name: meta.name, size: meta.size }
    : { kind: "file", name: meta.name, size: meta.size };
}

function readMeta(record: Record<string, unknown>): ItemMeta {
  const kind = readString(record, "kind", 16);
  const name = readString(record, "name", MAX_NAME_LENGTH);
  if (kind === "dict") {
    const format = readString(record, "format", 16);
    if (!isDictFormat(format)) {
      throw new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `unknown dictionary format "${format}"`);
    }
    return { kind, format, name, size: readCount(record, "size", MAX_SAFE_COUNT) };
  }
  if (kind === "file") {
    return { kind, name, size: readNullableCount(record, "size", MAX_SAFE_COUNT) };
  }
  throw new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `unknown item kind "${kind}"`);
}

/** Decodes the plaintext of a sealed [M-META]. @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeMeta(payload: Uint8Array): ItemMeta {
  return readMeta(parseJsonPayload(payload, "item metadata"));
}

export function encodeItemHeader(header: ItemHeader): Buffer {
  return Buffer.from(itemHeaderText(header), "utf8");
}

/** The JSON text of an ITEM payload, for writers that encode it in place. */
export function itemHeaderText(header: ItemHeader): string {
  return JSON.stringify(
    header.encrypted
      ? {
          id: header.id,
          encrypted: true,
          salt: header.salt.toString("hex"),
          sealedMeta: header.sealedMeta.toString("base64"),
        }
      : { id: header.id, encrypted: false, meta: metaToJson(header.meta) },
  );
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeItemHeader(payload: Uint8Array): ItemHeader {
  const record = parseJsonPayload(payload, "ITEM");
  const id = readCount(record, "id", MAX_SAFE_COUNT);
  if (readBoolean(record, "encrypted")) {
    return {
      id,
      encrypted: true,
      salt: readHex(record, "salt", ITEM_SALT_BYTES),
      sealedMeta: readBase64(record, "sealedMeta", MAX_SEALED_BYTES),
    };
  }
  return { id, encrypted: false, meta: readMeta(readObject(record, "meta")) };
}

export function encodeReceiptBody(body: ReceiptBody): Buffer {
  return encodeJsonPayload(receiptToJson(body));
}

function receiptToJson(body: ReceiptBody): object {
  return {
    kind: body.kind,
    name: body.name,
    bytes: body.bytes,
    sha256: body.sha256,
    savedAs: body.savedAs,
  };
}

function readReceiptBody(record: Record<string, unknown>): ReceiptBody {
  const kind = readString(record, "kind", 16);
  if (kind !== "dict" && kind !== "file") {
    throw new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `unknown item kind "${kind}"`);
  }
  const sha256 = readString(record, "sha256", 64);
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new ProtocolError(
      ErrorCode.MALFORMED_MESSAGE,
      '"sha256" must be 64 lower-case hex digits',
    );
  }
  return {
    kind,
    name: readString(record, "name", MAX_NAME_LENGTH),
    bytes: readCount(record, "bytes", MAX_SAFE_COUNT),
    sha256,
    savedAs: readNullableString(record, "savedAs", MAX_NAME_LENGTH * 4),
  };
}

/** Decodes the plaintext of a sealed receipt. @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeReceiptBody(payload: Uint8Array): ReceiptBody {
  return readReceiptBody(parseJsonPayload(payload, "receipt"));
}

export function encodeReceipt(message: ReceiptMessage): Buffer {
  return Buffer.from(receiptText(message), "utf8");
}

/** The JSON text of a RECEIPT payload, for writers that encode it in place. */
export function receiptText(message: ReceiptMessage): string {
  return JSON.stringify(
    message.encrypted
      ? { id: message.id, sealedReceipt: message.sealedReceipt.toString("base64") }
      : { id: message.id, receipt: receiptToJson(message.receipt) },
  );
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeReceipt(payload: Uint8Array): ReceiptMessage {
  const record = parseJsonPayload(payload, "RECEIPT");
  const id = readCount(record, "id", MAX_SAFE_COUNT);
  if (Object.hasOwn(record, "sealedReceipt")) {
    return {
      id,
      encrypted: true,
      sealedReceipt: readBase64(record, "sealedReceipt", MAX_SEALED_BYTES),
    };
  }
  return {
    id,
    encrypted: false,
    receipt: readReceiptBody(asRecord(record["receipt"], '"receipt"')),
  };
}

/** Encodes an ERROR frame; a message over the limit is cut (it may quote peer data). */
export function encodeError(error: ErrorMessage): Buffer {
  const text =
    error.message.length <= MAX_ERROR_MESSAGE_LENGTH
      ? error.message
      : `${error.message.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…`;
  const message = { ...error, message: text };
  return encodeJsonPayload(
    message.id === undefined
      ? { code: message.code, message: message.message }
      : { code: message.code, message: message.message, id: message.id },
  );
}

/**
 * Decodes an ERROR frame. An unknown code is kept as text (a newer peer may send one);
 * callers map it with {@link isErrorCode}.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function decodeError(payload: Uint8Array): ErrorMessage {
  const record = parseJsonPayload(payload, "ERROR");
  const code = readString(record, "code", 64);
  return {
    code,
    message: readString(record, "message", MAX_ERROR_MESSAGE_LENGTH),
    id: readOptionalCount(record, "id", MAX_SAFE_COUNT),
  };
}
