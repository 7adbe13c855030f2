import { ErrorCode, ProtocolError } from "../errors.js";

/**
 * Reading fields of a JSON control message whose content is still `unknown`.
 * Every failure is a MALFORMED_MESSAGE protocol error naming the field.
 */

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function malformed(what: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    ErrorCode.MALFORMED_MESSAGE,
    `malformed message: ${what}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Decodes a control payload: strict UTF-8 JSON whose top level is an object.
 * @throws {ProtocolError} MALFORMED_MESSAGE.
 */
export function parseJsonPayload(payload: Uint8Array, message: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(payload));
  } catch (error) {
    throw malformed(`${message} is not UTF-8 JSON`, error);
  }
  return asRecord(value, message);
}

/** Encodes a control payload as compact UTF-8 JSON. */
export function encodeJsonPayload(value: object): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(`${what} must be a JSON object`);
  }
  // JSON.parse only yields plain data objects; reading through Object.hasOwn below
  // keeps inherited names such as "constructor" from ever counting as present.
  return value as Record<string, unknown>;
}

function own(record: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(record, field) ? record[field] : undefined;
}

export function readString(
  record: Record<string, unknown>,
  field: string,
  maxLength: number,
): string {
  const value = own(record, field);
  if (typeof value !== "string") throw malformed(`"${field}" must be a string`);
  if (value.length > maxLength) throw malformed(`"${field}" is longer than ${maxLength}`);
  return value;
}

export function readBoolean(record: Record<string, unknown>, field: string): boolean {
  const value = own(record, field);
  if (typeof value !== "boolean") throw malformed(`"${field}" must be true or false`);
  return value;
}

/** A non-negative integer no larger than `max` (at most 2^53 - 1). */
export function readCount(record: Record<string, unknown>, field: string, max: number): number {
  const value = own(record, field);
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw malformed(`"${field}" must be an integer from 0 to ${max}`);
  }
  return value;
}

export function readOptionalCount(
  record: Record<string, unknown>,
  field: string,
  max: number,
): number | undefined {
  return own(record, field) === undefined ? undefined : readCount(record, field, max);
}

export function readNullableCount(
  record: Record<string, unknown>,
  field: string,
  max: number,
): number | null {
  return own(record, field) === null ? null : readCount(record, field, max);
}

export function readNullableString(
  record: Record<string, unknown>,
  field: string,
  maxLength: number,
): string | null {
  return own(record, field) === null ? null : readString(record, field, maxLength);
}

/** One compiled pattern per byte length (a handful), not one per message. */
const hexPatterns = new Map<number, RegExp>();

/** Lower-case hex of exactly `bytes` bytes. */
export function readHex(record: Record<string, unknown>, field: string, bytes: number): Buffer {
  const value = own(record, field);
  let pattern = hexPatterns.get(bytes);
  if (pattern === undefined) {
    pattern = new RegExp(`^[0-9a-f]{${bytes * 2}}$`);
    hexPatterns.set(bytes, pattern);
  }
  if (typeof value !== "string" || !pattern.test(value)) {
    throw malformed(`"${field}" must be ${bytes} bytes of lower-case hex`);
  }
  return Buffer.from(value, "hex");
}

/** Standard base64 with padding, decoding to at most `maxBytes`. */
export function readBase64(
  record: Record<string, unknown>,
  field: string,
  maxBytes: number,
): Buffer {
  const value = own(record, field);
  if (
    typeof value !== "string" ||
    value.length > Math.ceil(maxBytes / 3) * 4 ||
    value.length % 4 !== 0 ||
    !/^[A-Za-z0-9+/]*={0,2}$/.test(value)
  ) {
    throw malformed(`"${field}" must be base64 of at most ${maxBytes} bytes`);
  }
  return Buffer.from(value, "base64");
}

export function readObject(
  record: Record<string, unknown>,
  field: string,
): Record<string, unknown> {
  return asRecord(own(record, field), `"${field}"`);
}
