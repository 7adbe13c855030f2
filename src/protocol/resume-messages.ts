import { MAX_SAFE_COUNT } from "./constants.js";
import type { ControlObject } from "./control-json.js";
import {
  encodeJsonPayload,
  parseJsonPayload,
  readCount,
  readHex,
  readObject,
} from "./json-fields.js";

/** Bytes of a resume key and of an offered prefix's SHA-256 [RES-KEY] [M-OFFER]. */
export const RESUME_HASH_BYTES = 32;

/** What an item that asks to resume carries in its metadata [RES-KEY]. */
export interface ResumeRequest {
  /** The key naming the item's source: 32 bytes as lower-case hex. */
  readonly key: string;
}

/** SERVER → CLIENT: what the server holds of an item that asked to resume. [M-OFFER] */
export interface OfferMessage {
  readonly id: number;
  /** Bytes held, which the server continues from. */
  readonly offset: number;
  /** SHA-256 of those bytes, lower-case hex. */
  readonly sha256: string;
}

/** CLIENT → SERVER: where the item's data that follows starts. [M-RESUME] */
export interface ResumeMessage {
  readonly id: number;
  /** The OFFER's offset, or 0 to start over. */
  readonly from: number;
}

/** The members of an item's `resume` object [RES-KEY] [RES-TREE]. */
export interface ResumeMembers {
  /** A file's resume key. */
  readonly key?: string;
  /** The tree key, on the entry that starts a tree. */
  readonly tree?: string;
}

/**
 * [RES-KEY] [RES-TREE] The `resume` member of an item's metadata, when present: an object
 * with `key` (hex(32)), `tree` (hex(32)) or both, at least one; other members of it are
 * ignored [J-MEMBERS]. Which of them an item may carry is its caller's to check.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function readResumeMembers(meta: ControlObject): ResumeMembers {
  if (!meta.has("resume")) return {};
  const resume = readObject(meta, "resume");
  const key = resume.has("key") ? readHex(resume, "key", RESUME_HASH_BYTES) : undefined;
  // Without a key, the tree key is required: the message it reports names "tree".
  const tree =
    resume.has("tree") || key === undefined
      ? readHex(resume, "tree", RESUME_HASH_BYTES)
      : undefined;
  return {
    ...(key === undefined ? {} : { key: key.toString("hex") }),
    ...(tree === undefined ? {} : { tree: tree.toString("hex") }),
  };
}

/** The JSON text of an OFFER payload [M-OFFER]. */
export function encodeOffer(offer: OfferMessage): Buffer {
  return encodeJsonPayload({ id: offer.id, offset: offer.offset, sha256: offer.sha256 });
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeOffer(payload: Uint8Array): OfferMessage {
  const record = parseJsonPayload(payload, "OFFER");
  return {
    id: readCount(record, "id", MAX_SAFE_COUNT),
    offset: readCount(record, "offset", MAX_SAFE_COUNT),
    sha256: readHex(record, "sha256", RESUME_HASH_BYTES).toString("hex"),
  };
}

/** The JSON text of a RESUME payload [M-RESUME]. */
export function encodeResume(message: ResumeMessage): Buffer {
  return encodeJsonPayload({ id: message.id, from: message.from });
}

/** @throws {ProtocolError} MALFORMED_MESSAGE */
export function decodeResume(payload: Uint8Array): ResumeMessage {
  const record = parseJsonPayload(payload, "RESUME");
  return {
    id: readCount(record, "id", MAX_SAFE_COUNT),
    from: readCount(record, "from", MAX_SAFE_COUNT),
  };
}
