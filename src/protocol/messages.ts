import { DICT_FORMATS, type DictFormat } from "../codecs/dict-format.js";
import { SCRYPT_SALT_BYTES } from "../crypto/constants.js";
import { ErrorCode, ProtocolError } from "../errors.js";
import type { ControlObject } from "./control-json.js";
import {
  MAX_ERROR_CODE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_NAME_BYTES,
  MAX_SAFE_COUNT,
  MAX_SAVED_AS_BYTES,
  MAX_SERVER_NAME_BYTES,
} from "./constants.js";
import {
  asObject,
  encodeJsonPayload,
  parseJsonPayload,
  readCount,
  readEnum,
  readHex,
  readNullableCount,
  readNullableString,
  readObject,
  readOptionalCount,
  readString,
  requireAbsent,
} from "./json-fields.js";

/**
 * How a connection runs [M-HELLO]: "noise", a Noise session that encrypts and
 * authenticates everything after the handshake; "plain", frames in the clear.
 */
export type ConnectionMode = "noise" | "plain";

/** SERVER → CLIENT, once, right after the server's preamble. PROTOCOL.md [M-HELLO]. */
export interface Hello {
  /** Free text naming the server software, e.g. "gb-transfer/2.0.0". */
  readonly server: string;
  /** Salt a client uses to derive the key from a passphrase with scrypt [H-PSK]. */
  readonly scryptSalt: Buffer;
  /**
   * The modes this server takes from this client: `["noise"]`, or `["noise", "plain"]`
   * when its policy lets this client connect in the clear [H-POLICY].
   */
  readonly accepts: readonly ConnectionMode[];
}

/** What an item is. [M-META] */
export type ItemMeta =
  | {
      readonly kind: "dict";
      readonly format: DictFormat;
      readonly name: string;
      readonly size: number;
    }
  | { readonly kind: "file"; readonly name: string; readonly size: number | null };

/** CLIENT → SERVER: announces the next item. [M-ITEM] */
export interface ItemHeader {
  readonly id: number;
  readonly meta: ItemMeta;
}

/** What the server stored for an item. [M-RECEIPT] */
export interface ReceiptBody {
  readonly kind: "dict" | "file";
  /** The name the client gave the item. */
  readonly name: string;
  /** Bytes of item data received, and their SHA-256 (lower-case hex). */
  readonly bytes: number;
  readonly sha256: string;
  /** Where the server stored it, relative to its save directory; null when not saved. */
  readonly savedAs: string | null;
  /**
   * [M-RECEIPT-STORED] A stored dictionary only: the SHA-256 (lower-case hex) of the file
   * on the server's disk, which holds the dictionary as JSON text, not the bytes sent.
   */
  readonly storedSha256?: string;
}

/** SERVER → CLIENT: the result of one item. [M-RECEIPT] */
export interface ReceiptMessage {
  readonly id: number;
  readonly receipt: ReceiptBody;
}

/** SERVER → CLIENT: a refusal. With `id` the item failed and the connection goes on; without, the connection ends. [M-ERROR] */
export interface ErrorMessage {
  readonly code: string;
  readonly message: string;
  readonly id: number | undefined;
}

const ITEM_KINDS = ["dict", "file"] as const;

/** [M-HELLO] The two values `accepts` may have, exactly. */
const ACCEPTS_NOISE_ONLY = ["noise"] as const;
const ACCEPTS_NOISE_AND_PLAIN = ["noise", "plain"] as const;

/** A receipt's hash: SHA-256 as lower-case hex. */
const SHA256_HEX_DIGITS = 64;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What a sender appends to an ERROR message it cut [M-ERROR-CUT]. */
const CUT_MARK = "…";

function malformed(what: string): ProtocolError {
  return new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `malformed message: ${what}`);
}

export function encodeHello(hello: Hello): Buffer {
  return encodeJsonPayload({
    server: hello.server,
    scryptSalt: hello.scryptSalt.toString("hex"),
    accepts: hello.accepts,
  });
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeHello(payload: Uint8Array): Hello {
  const record = parseJsonPayload(payload, "HELLO");
  return {
    server: readString(record, "server", MAX_SERVER_NAME_BYTES),
    scryptSalt: readHex(record, "scryptSalt", SCRYPT_SALT_BYTES),
    accepts: readAccepts(record),
  };
}

/** [M-HELLO] `accepts` is `["noise"]` or `["noise","plain"]`, exactly. */
function readAccepts(record: ControlObject): readonly ConnectionMode[] {
  const value = record.get("accepts");
  if (Array.isArray(value) && value[0] === "noise") {
    if (value.length === 1) return ACCEPTS_NOISE_ONLY;
    if (value.length === 2 && value[1] === "plain") return ACCEPTS_NOISE_AND_PLAIN;
  }
  throw malformed('"accepts" must be ["noise"] or ["noise","plain"]');
}

function metaToJson(meta: ItemMeta): object {
  return meta.kind === "dict"
    ? { kind: "dict", format: meta.format, name: meta.name, size: meta.size }
    : { kind: "file", name: meta.name, size: meta.size };
}

function readMeta(record: ControlObject): ItemMeta {
  const kind = readEnum(record, "kind", ITEM_KINDS);
  const name = readString(record, "name", MAX_NAME_BYTES);
  if (kind === "dict") {
    const format: DictFormat = readEnum(record, "format", DICT_FORMATS);
    // [M-META-SIZE] required; an integer for a dictionary.
    return { kind, format, name, size: readCount(record, "size", MAX_SAFE_COUNT) };
  }
  // [M-META-FORMAT] a file has no format: present is an error, not ignored.
  requireAbsent(record, "format", "for a file");
  // [M-META-SIZE] required; an integer, or null when the size is not known in advance.
  return { kind, name, size: readNullableCount(record, "size", MAX_SAFE_COUNT) };
}

/** Decodes item metadata on its own [M-META]. @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeMeta(payload: Uint8Array): ItemMeta {
  return readMeta(parseJsonPayload(payload, "item metadata"));
}

/** The JSON text of an ITEM payload, for writers that encode it in place. */
export function itemHeaderText(header: ItemHeader): string {
  return JSON.stringify({ id: header.id, meta: metaToJson(header.meta) });
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeItemHeader(payload: Uint8Array): ItemHeader {
  const record = parseJsonPayload(payload, "ITEM");
  const id = readCount(record, "id", MAX_SAFE_COUNT);
  return { id, meta: readMeta(readObject(record, "meta")) };
}

function receiptToJson(body: ReceiptBody): object {
  return {
    kind: body.kind,
    name: body.name,
    bytes: body.bytes,
    sha256: body.sha256,
    savedAs: body.savedAs,
    ...(body.storedSha256 === undefined ? {} : { storedSha256: body.storedSha256 }),
  };
}

function readReceiptBody(record: ControlObject): ReceiptBody {
  const kind = readEnum(record, "kind", ITEM_KINDS);
  const name = readString(record, "name", MAX_NAME_BYTES);
  const bytes = readCount(record, "bytes", MAX_SAFE_COUNT);
  const sha256 = readString(record, "sha256", SHA256_HEX_DIGITS);
  if (!SHA256_HEX.test(sha256)) throw malformed('"sha256" must be 64 lower-case hex digits');
  const savedAs = readNullableString(record, "savedAs", MAX_SAVED_AS_BYTES);
  // [M-RECEIPT-STORED] present exactly when a dictionary was stored.
  const stored = kind === "dict" && savedAs !== null;
  if (!record.has("storedSha256")) {
    if (stored) throw malformed('a stored dictionary\'s receipt needs "storedSha256"');
    return { kind, name, bytes, sha256, savedAs };
  }
  if (!stored) throw malformed('"storedSha256" belongs to a stored dictionary\'s receipt only');
  const storedSha256 = readString(record, "storedSha256", SHA256_HEX_DIGITS);
  if (!SHA256_HEX.test(storedSha256)) {
    throw malformed('"storedSha256" must be 64 lower-case hex digits');
  }
  return { kind, name, bytes, sha256, savedAs, storedSha256 };
}

/** The JSON text of a RECEIPT payload, for writers that encode it in place. */
export function receiptText(message: ReceiptMessage): string {
  return JSON.stringify({ id: message.id, receipt: receiptToJson(message.receipt) });
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeReceipt(payload: Uint8Array): ReceiptMessage {
  const record = parseJsonPayload(payload, "RECEIPT");
  const id = readCount(record, "id", MAX_SAFE_COUNT);
  return { id, receipt: readReceiptBody(asObject(record.get("receipt"), '"receipt"')) };
}

/**
 * [M-ERROR-CUT] `message` as it may travel: unchanged when it is at most
 * {@link MAX_ERROR_MESSAGE_BYTES} UTF-8 bytes, otherwise its longest prefix of whole code
 * points that, followed by "…", fits that limit. A lone surrogate counts as the 3 bytes
 * of U+FFFD and is one code point; a surrogate pair is never split.
 */
export function cutErrorMessage(message: string): string {
  if (Buffer.byteLength(message, "utf8") <= MAX_ERROR_MESSAGE_BYTES) return message;
  const budget = MAX_ERROR_MESSAGE_BYTES - Buffer.byteLength(CUT_MARK, "utf8");
  return `${longestPrefixWithin(message, budget)}${CUT_MARK}`;
}

/**
 * An item name as a client sends it [K-NAME]: a name over {@link MAX_NAME_BYTES} UTF-8
 * bytes is cut to its longest prefix of whole code points within the limit. A name is a
 * hint (the server stores at most 200 bytes of it, [V-NAME]), so a long one is shortened
 * rather than refused by the server as MALFORMED_MESSAGE.
 */
export function fitItemName(name: string): string {
  return Buffer.byteLength(name, "utf8") <= MAX_NAME_BYTES
    ? name
    : longestPrefixWithin(name, MAX_NAME_BYTES);
}

/** The longest prefix of whole code points of `text` within `maxBytes` of UTF-8. */
function longestPrefixWithin(text: string, maxBytes: number): string {
  let kept = 0;
  let bytes = 0;
  for (const codePoint of text) {
    // A lone surrogate counts as the 3 bytes of U+FFFD, as [J-STRING] counts it.
    const size = Buffer.byteLength(codePoint, "utf8");
    if (bytes + size > maxBytes) break;
    bytes += size;
    kept += codePoint.length;
  }
  return text.slice(0, kept);
}

/** Encodes an ERROR frame; a message over the limit is cut (it may quote peer data). */
export function encodeError(error: ErrorMessage): Buffer {
  const message = cutErrorMessage(error.message);
  return encodeJsonPayload(
    error.id === undefined
      ? { code: error.code, message }
      : { code: error.code, message, id: error.id },
  );
}

/**
 * Decodes an ERROR frame. An unknown code is kept as text (a newer peer may send one);
 * callers map it with {@link isErrorCode}.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function decodeError(payload: Uint8Array): ErrorMessage {
  const record = parseJsonPayload(payload, "ERROR");
  return {
    code: readString(record, "code", MAX_ERROR_CODE_BYTES),
    message: readString(record, "message", MAX_ERROR_MESSAGE_BYTES),
    // Absent means a connection failure; null is not absent, and is refused.
    id: readOptionalCount(record, "id", MAX_SAFE_COUNT),
  };
}
