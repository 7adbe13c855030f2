import { DICT_FORMATS, type DictFormat } from "../codecs/dict-format.js";
import { SCRYPT_SALT_BYTES } from "../crypto/constants.js";
import { ErrorCode, ProtocolError } from "../errors.js";
import type { ControlObject } from "./control-json.js";
import {
  MAX_ERROR_CODE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_NAME_BYTES,
  MAX_RECEIPT_FRAME_BYTES,
  MAX_SAFE_COUNT,
  MAX_SAVED_AS_BYTES,
  MAX_SERVER_NAME_BYTES,
} from "./constants.js";
import {
  asObject,
  encodeJsonPayload,
  parseJsonPayload,
  readBoolean,
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
import {
  batchMetaToJson,
  readBatchMeta,
  readBatchReceipt,
  type BatchMeta,
  type BatchReceiptBody,
  type FileFailure,
} from "./batch-messages.js";
import { readEntryPath } from "./entry-path.js";
import { readResumeMembers, type ResumeRequest } from "./resume-messages.js";

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

/** What an item is: a dictionary, a file, or a directory of a tree. [M-META] */
export type ItemKind = "dict" | "file" | "dir";

/** Where a file sits in a directory tree, and what travels with it [T-ENTRY]. */
export interface FileEntry {
  /** The entry's path in its tree, top folder first; at least 2 components [T-PATH]. */
  readonly path: readonly string[];
  /** Modification time, in milliseconds since the Unix epoch [T-MTIME]. */
  readonly mtimeMs: number;
  /** The file is executable [T-MODE]. */
  readonly exec: boolean;
  /** [RES-TREE] The tree key, on the entry that starts a tree: 32 bytes as lower-case hex. */
  readonly tree?: string;
}

/** A directory of a tree [T-ENTRY]. */
export interface DirEntry {
  readonly path: readonly string[];
  readonly mtimeMs: number;
  /** [RES-TREE] The tree key, on the entry that starts a tree: 32 bytes as lower-case hex. */
  readonly tree?: string;
}

/** What an item is. [M-META] */
export type ItemMeta =
  | {
      readonly kind: "dict";
      readonly format: DictFormat;
      readonly name: string;
      readonly size: number;
    }
  | {
      readonly kind: "file";
      readonly name: string;
      readonly size: number | null;
      /** Present when the file is an entry of a tree: then `size` is an integer. */
      readonly entry?: FileEntry;
      /** [RES-KEY] Asks to resume what the server kept of this source; `size` is an integer. */
      readonly resume?: ResumeRequest;
    }
  | { readonly kind: "dir"; readonly name: string; readonly size: 0; readonly entry: DirEntry };

/** CLIENT → SERVER: announces the next item. [M-ITEM] */
export interface ItemHeader {
  readonly id: number;
  readonly meta: ItemMeta;
}

/** What the server stored for an item. [M-RECEIPT] */
export interface ReceiptBody {
  readonly kind: ItemKind;
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

/** CLIENT → SERVER: announces a batch of files [T-BATCH]. */
export interface BatchHeader {
  readonly id: number;
  readonly meta: BatchMeta;
}

/** SERVER → CLIENT: the result of one item. [M-RECEIPT] */
export interface ReceiptMessage {
  readonly id: number;
  readonly receipt: ReceiptBody;
}

/** SERVER → CLIENT: the result of a batch, file by file. [T-BATCH-RECEIPT] */
export interface BatchReceiptMessage {
  readonly id: number;
  readonly batch: BatchReceiptBody<ReceiptBody>;
}

/** SERVER → CLIENT: a refusal. With `id` the item failed and the connection goes on; without, the connection ends. [M-ERROR] */
export interface ErrorMessage {
  readonly code: string;
  readonly message: string;
  readonly id: number | undefined;
}

const ITEM_KINDS = ["dict", "file", "dir"] as const;
/** What an ITEM's `kind` may be: an item kind, or a batch of files [T-BATCH]. */
const META_KINDS = [...ITEM_KINDS, "files"] as const;

/** The members only an entry of a tree has [T-ENTRY]. */
const TREE_FIELDS = ["path", "mtimeMs", "exec"] as const;

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

function metaToJson(meta: ItemMeta | BatchMeta): object {
  switch (meta.kind) {
    case "dict":
      return { kind: "dict", format: meta.format, name: meta.name, size: meta.size };
    case "file": {
      const entry = meta.entry;
      const resume = resumeToJson(meta.resume?.key, entry?.tree);
      return entry === undefined
        ? { kind: "file", name: meta.name, size: meta.size, ...resume }
        : {
            kind: "file",
            name: meta.name,
            size: meta.size,
            path: entry.path,
            mtimeMs: entry.mtimeMs,
            exec: entry.exec,
            ...resume,
          };
    }
    case "files":
      return batchMetaToJson(meta);
    case "dir":
      return {
        kind: "dir",
        name: meta.name,
        size: 0,
        path: meta.entry.path,
        mtimeMs: meta.entry.mtimeMs,
        ...resumeToJson(undefined, meta.entry.tree),
      };
  }
}

/** [RES-KEY] [RES-TREE] The `resume` member: a file's key, a tree's key, both or none. */
function resumeToJson(key: string | undefined, tree: string | undefined): object {
  if (key === undefined && tree === undefined) return {};
  return {
    resume: { ...(key === undefined ? {} : { key }), ...(tree === undefined ? {} : { tree }) },
  };
}

function readMeta(record: ControlObject): ItemMeta | BatchMeta {
  const kind = readEnum(record, "kind", META_KINDS);
  const name = readString(record, "name", MAX_NAME_BYTES);
  if (kind === "files") return readBatchMeta(record, name);
  // [T-BATCH] only a batch lists files.
  requireAbsent(record, "files", `for a ${kind}`);
  if (kind === "dict") {
    const format: DictFormat = readEnum(record, "format", DICT_FORMATS);
    // [T-ENTRY] a dictionary is never an entry of a tree; [RES-KEY] nor resumed.
    for (const field of TREE_FIELDS) requireAbsent(record, field, "for a dictionary");
    requireAbsent(record, "resume", "for a dictionary");
    // [M-META-SIZE] required; an integer for a dictionary.
    return { kind, format, name, size: readCount(record, "size", MAX_SAFE_COUNT) };
  }
  // [M-META-FORMAT] a file or directory has no format: present is an error, not ignored.
  requireAbsent(record, "format", `for a ${kind === "dir" ? "directory" : "file"}`);
  if (kind === "dir") {
    // [T-ENTRY] a directory is always an entry: path and mtime, size 0, no exec.
    requireAbsent(record, "exec", "for a directory");
    if (readCount(record, "size", MAX_SAFE_COUNT) !== 0)
      throw malformed('"size" of a directory must be 0');
    const { path } = readEntryPath(record, name, 1);
    const mtimeMs = readCount(record, "mtimeMs", MAX_SAFE_COUNT);
    // [RES-TREE] a directory has no data to resume: its `resume` names its tree only.
    const { key, tree } = readResumeMembers(record);
    if (key !== undefined) throw malformed('"resume" of a directory has a "tree" only');
    return {
      kind,
      name,
      size: 0,
      entry: tree === undefined ? { path, mtimeMs } : { path, mtimeMs, tree },
    };
  }
  if (!record.has("path")) {
    requireAbsent(record, "mtimeMs", "for a file outside a tree");
    requireAbsent(record, "exec", "for a file outside a tree");
    // [M-META-SIZE] required; an integer, or null when the size is not known in advance.
    const size = readNullableCount(record, "size", MAX_SAFE_COUNT);
    // [RES-KEY] only a file of known size can be resumed.
    if (size === null) requireAbsent(record, "resume", "for a file of unknown size");
    const { key, tree } = readResumeMembers(record);
    if (tree !== undefined) throw malformed('"tree" of "resume" belongs to an entry of a tree');
    return key === undefined ? { kind, name, size } : { kind, name, size, resume: { key } };
  }
  // [T-ENTRY] a file of a tree: its size is known, it sits inside the top folder.
  const size = readCount(record, "size", MAX_SAFE_COUNT);
  const { path } = readEntryPath(record, name, 2);
  const mtimeMs = readCount(record, "mtimeMs", MAX_SAFE_COUNT);
  const exec = readBoolean(record, "exec");
  const { key, tree } = readResumeMembers(record);
  const entry = tree === undefined ? { path, mtimeMs, exec } : { path, mtimeMs, exec, tree };
  return key === undefined
    ? { kind, name, size, entry }
    : { kind, name, size, entry, resume: { key } };
}

/** Decodes item metadata on its own [M-META]. @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeMeta(payload: Uint8Array): ItemMeta | BatchMeta {
  return readMeta(parseJsonPayload(payload, "item metadata"));
}

/** The JSON text of an ITEM payload, for writers that encode it in place. */
export function itemHeaderText(header: ItemHeader | BatchHeader): string {
  return JSON.stringify({ id: header.id, meta: metaToJson(header.meta) });
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeItemHeader(payload: Uint8Array): ItemHeader | BatchHeader {
  const record = parseJsonPayload(payload, "ITEM");
  const id = readCount(record, "id", MAX_SAFE_COUNT);
  const meta = readMeta(readObject(record, "meta"));
  return meta.kind === "files" ? { id, meta } : { id, meta };
}

export function receiptToJson(body: ReceiptBody): object {
  return {
    kind: body.kind,
    name: body.name,
    bytes: body.bytes,
    sha256: body.sha256,
    savedAs: body.savedAs,
    ...(body.storedSha256 === undefined ? {} : { storedSha256: body.storedSha256 }),
  };
}

export function readReceiptBody(record: ControlObject): ReceiptBody {
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

/**
 * The JSON text of a RECEIPT payload for a batch [T-BATCH-RECEIPT]: a receipt or a
 * failure per file, in the batch's order.
 */
export function batchReceiptText(id: number, body: BatchReceiptBody<ReceiptBody>): string {
  const files = body.files.map((answer) =>
    "code" in answer ? { code: answer.code, message: answer.message } : receiptToJson(answer),
  );
  return JSON.stringify({
    id,
    receipt: { kind: "files", name: body.name, bytes: body.bytes, savedAs: body.savedAs, files },
  });
}

/**
 * A RECEIPT of one item [M-RECEIPT]; a batch's receipt is refused (see {@link decodeAnswerReceipt}).
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function decodeReceipt(payload: Uint8Array): ReceiptMessage {
  const answer = decodeAnswerReceipt(payload);
  if ("batch" in answer) throw malformed('a receipt of "kind" "files" answers a batch only');
  return answer;
}

/**
 * A RECEIPT, of one item [M-RECEIPT] or of a batch, file by file [T-BATCH-RECEIPT].
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function decodeAnswerReceipt(payload: Uint8Array): ReceiptMessage | BatchReceiptMessage {
  const record = parseJsonPayload(payload, "RECEIPT", MAX_RECEIPT_FRAME_BYTES);
  const id = readCount(record, "id", MAX_SAFE_COUNT);
  const body = asObject(record.get("receipt"), '"receipt"');
  if (body.get("kind") === "files") {
    const name = readString(body, "name", MAX_NAME_BYTES);
    return { id, batch: readBatchReceipt(body, name, readReceiptBody) };
  }
  return { id, receipt: readReceiptBody(body) };
}

export type { BatchMeta, BatchReceiptBody, FileFailure };

/**
 * [M-ERROR-CUT] `message` as it may travel: unchanged when it is at most
 * {@link MAX_ERROR_MESSAGE_BYTES} UTF-8 bytes, otherwise its longest prefix of whole code
 * points that, followed by "…", fits that limit. A lone surrogate counts as the 3 bytes
 * of U+FFFD and is one code point; a surrogate pair is never split.
 */
export function cutErrorMessage(message: string, maxBytes = MAX_ERROR_MESSAGE_BYTES): string {
  if (Buffer.byteLength(message, "utf8") <= maxBytes) return message;
  const budget = maxBytes - Buffer.byteLength(CUT_MARK, "utf8");
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
