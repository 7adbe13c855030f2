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

/**
 * [RES-KEY] The `resume` member of a file's metadata: an object whose `key` is hex(32);
 * other members of it are ignored [J-MEMBERS].
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function readResumeRequest(meta: ControlObject): ResumeRequest {
  const resume = readObject(meta, "resume");
  return { key: readHex(resume, "key", RESUME_HASH_BYTES).toString("hex") };
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
