import { ErrorCode, ProtocolError } from "../errors.js";
import {
  JsonNumberToken,
  parseControlJson,
  type ControlObject,
  type ControlValue,
} from "./control-json.js";

/**
 * Reading members of a JSON control message whose content is still unchecked. Every
 * failure is a MALFORMED_MESSAGE protocol error naming the member.
 */

// [J-INTEGER] the only integer token a control message may hold: no sign, fraction,
// exponent or leading zero.
const INTEGER_TOKEN = /^(?:0|[1-9][0-9]*)$/;

function malformed(what: string): ProtocolError {
  return new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `malformed message: ${what}`);
}

/**
 * Decodes a control payload: strict UTF-8 JSON whose top level is an object [J-TEXT]
 * (PROTOCOL.md, "Conventions").
 * @throws {ProtocolError} MALFORMED_MESSAGE.
 */
export function parseJsonPayload(
  payload: Uint8Array,
  message: string,
  maxBytes?: number,
): ControlObject {
  return asObject(parseControlJson(payload, maxBytes), message);
}

/** Encodes a control payload as compact UTF-8 JSON. */
export function encodeJsonPayload(value: object): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

function isObject(value: ControlValue | undefined): value is ControlObject {
  return value instanceof Map;
}

/** @throws {ProtocolError} MALFORMED_MESSAGE when `value` is not a JSON object. */
export function asObject(value: ControlValue | undefined, what: string): ControlObject {
  if (!isObject(value)) throw malformed(`${what} must be a JSON object`);
  return value;
}

/**
 * [J-MEMBERS] A member defined for another form or kind of the message must be absent.
 * @throws {ProtocolError} MALFORMED_MESSAGE when it is present.
 */
export function requireAbsent(record: ControlObject, field: string, context: string): void {
  if (record.has(field)) throw malformed(`"${field}" must be absent ${context}`);
}

/**
 * A string of at most `maxBytes` UTF-8 bytes [J-STRING]. A lone surrogate (which
 * JSON can carry as an escape) counts as 3 bytes, as the U+FFFD it would be encoded as.
 */
export function readString(record: ControlObject, field: string, maxBytes: number): string {
  const value = record.get(field);
  if (typeof value !== "string") throw malformed(`"${field}" must be a string`);
  // Buffer.byteLength counts a lone surrogate as the 3 bytes of U+FFFD, as the rule says.
  if (Buffer.byteLength(value, "utf8") > maxBytes) {
    throw malformed(`"${field}" is longer than ${maxBytes} UTF-8 bytes`);
  }
  return value;
}

/** One of `allowed`, exactly. */
export function readEnum<const T extends string>(
  record: ControlObject,
  field: string,
  allowed: readonly T[],
): T {
  const value = record.get(field);
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) {
    throw malformed(`"${field}" must be one of ${allowed.map((v) => `"${v}"`).join(", ")}`);
  }
  return found;
}

/** `true` or `false`, exactly. */
export function readBoolean(record: ControlObject, field: string): boolean {
  const value = record.get(field);
  if (typeof value !== "boolean") throw malformed(`"${field}" must be true or false`);
  return value;
}

/**
 * [J-INTEGER] An integer: the token `0` or a digit 1-9 followed by digits, with a value
 * of at most `max` (itself at most 2^53 - 1).
 */
export function readCount(record: ControlObject, field: string, max: number): number {
  const value = record.get(field);
  if (value instanceof JsonNumberToken && INTEGER_TOKEN.test(value.token)) {
    const count = value.value;
    if (count <= max) return count;
  }
  throw malformed(`"${field}" must be an integer from 0 to ${max}`);
}

/** An integer, or absent (`null` is not absent). */
export function readOptionalCount(
  record: ControlObject,
  field: string,
  max: number,
): number | undefined {
  return record.has(field) ? readCount(record, field, max) : undefined;
}

/** An integer, or `null`; the member must be present. */
export function readNullableCount(
  record: ControlObject,
  field: string,
  max: number,
): number | null {
  return record.get(field) === null ? null : readCount(record, field, max);
}

/** A string of at most `maxBytes` UTF-8 bytes, or `null`; the member must be present. */
export function readNullableString(
  record: ControlObject,
  field: string,
  maxBytes: number,
): string | null {
  return record.get(field) === null ? null : readString(record, field, maxBytes);
}

/** One compiled pattern per byte length (a handful), not one per message. */
const hexPatterns = new Map<number, RegExp>();

/** [J-HEX] Lower-case hex of exactly `bytes` bytes. */
export function readHex(record: ControlObject, field: string, bytes: number): Buffer {
  return Buffer.from(readHexText(record.get(field), field, bytes), "hex");
}

/**
 * [J-HEX] `value`, when it is lower-case hex of exactly `bytes` bytes, as that text: the
 * one spelling such bytes have, so a caller that keys on them needs no decoding.
 * @param field its name, for the error
 */
export function readHexText(value: ControlValue | undefined, field: string, bytes: number): string {
  let pattern = hexPatterns.get(bytes);
  if (pattern === undefined) {
    pattern = new RegExp(`^[0-9a-f]{${bytes * 2}}$`);
    hexPatterns.set(bytes, pattern);
  }
  if (typeof value !== "string" || !pattern.test(value)) {
    throw malformed(`"${field}" must be ${bytes} bytes of lower-case hex`);
  }
  return value;
}

export function readObject(record: ControlObject, field: string): ControlObject {
  return asObject(record.get(field), `"${field}"`);
}
