import { isDictFormat, type DictFormat } from "../../codecs/dict-format.js";
import type { PrintableDict, PrintableToken } from "../../codecs/dict-printable.js";
import { isDictObject, type DictObject } from "../../codecs/dict-value.js";
import type { DictLimits } from "../../codecs/limits.js";
import { isErrorCode, type ErrorCode } from "../../errors.js";

/** What is wanted of a received dictionary besides checking it. */
export interface DictWants {
  /** Its printable form (its first lines, as tokens). */
  readonly printable: boolean;
  /** The decoded dictionary itself (it costs the event loop a copy of the whole tree). */
  readonly value: boolean;
  /** The compact JSON text of the dictionary. */
  readonly jsonText: boolean;
}

/** A dictionary to decode, check and render: what the server sends a worker. */
export interface DictJob extends DictWants {
  readonly bytes: Uint8Array;
  readonly format: DictFormat;
  readonly limits: DictLimits;
  /**
   * An open file descriptor (the item's temporary file, empty) to write the stored text
   * to [V-DICT], or null when the server does not save.
   */
  readonly fd: number | null;
}

/** What decoding a dictionary gives: always its printable form; the rest when asked for. */
export interface DictOutcome {
  readonly printable: PrintableDict | undefined;
  /** Bytes of stored text written to the job's file; null when it had none. */
  readonly storedBytes: number | null;
  /** [M-RECEIPT-STORED] SHA-256 (hex) of the stored text written; null when it had none. */
  readonly storedSha256: string | null;
  readonly value: DictObject | undefined;
  readonly jsonText: string | undefined;
}

/** A job's failure, as a worker reports it: a code of the codec's, or INTERNAL. */
export interface DictJobFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

/** A worker's answer to one job. */
export type DictJobAnswer =
  | { readonly ok: true; readonly outcome: DictOutcome }
  | { readonly ok: false; readonly failure: DictJobFailure };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * Checks a job as a worker receives it: it crossed a thread boundary, so it is checked
 * like anything else from outside.
 */
export function parseDictJob(value: unknown): DictJob | undefined {
  if (!isRecord(value)) return undefined;
  const { bytes, format, limits, fd, value: wantValue, jsonText, printable } = value;
  if (!(bytes instanceof Uint8Array) || !isDictFormat(format) || !isRecord(limits)) {
    return undefined;
  }
  const { maxBytes, maxDepth, maxValues } = limits;
  if (typeof maxBytes !== "number" || typeof maxDepth !== "number") return undefined;
  if (typeof maxValues !== "number") return undefined;
  if (fd !== null && typeof fd !== "number") return undefined;
  if (typeof wantValue !== "boolean" || typeof jsonText !== "boolean") return undefined;
  if (typeof printable !== "boolean") return undefined;
  return {
    bytes,
    format,
    limits: { maxBytes, maxDepth, maxValues },
    fd,
    value: wantValue,
    jsonText,
    printable,
  };
}

/** Checks a worker's answer as the server receives it. */
export function parseDictJobAnswer(value: unknown): DictJobAnswer | undefined {
  if (!isRecord(value)) return undefined;
  const { ok, failure, outcome } = value;
  if (ok === false) {
    if (!isRecord(failure)) return undefined;
    const { code, message } = failure;
    if (!isErrorCode(code) || typeof message !== "string") return undefined;
    return { ok: false, failure: { code, message } };
  }
  if (ok !== true || !isRecord(outcome)) return undefined;
  const { printable, storedBytes, storedSha256, value: dict, jsonText } = outcome;
  const checked = printable === undefined ? undefined : parsePrintable(printable);
  if (printable !== undefined && checked === undefined) return undefined;
  if (storedBytes !== null && typeof storedBytes !== "number") return undefined;
  if (storedSha256 !== null && typeof storedSha256 !== "string") return undefined;
  if (dict !== undefined && !isDictObject(dict)) return undefined;
  if (jsonText !== undefined && typeof jsonText !== "string") return undefined;
  return {
    ok: true,
    outcome: { printable: checked, storedBytes, storedSha256, value: dict, jsonText },
  };
}

const TOKEN_KINDS = ["plain", "key", "string", "number", "literal"] as const;

function parsePrintable(value: unknown): PrintableDict | undefined {
  if (!isRecord(value)) return undefined;
  const { lines, more, moreIsLowerBound } = value;
  if (!Array.isArray(lines) || typeof more !== "number" || typeof moreIsLowerBound !== "boolean") {
    return undefined;
  }
  const checked: PrintableToken[][] = [];
  for (const line of lines) {
    if (!Array.isArray(line)) return undefined;
    const tokens: PrintableToken[] = [];
    for (const token of line) {
      if (!isRecord(token)) return undefined;
      const { kind: tokenKind, text } = token;
      const kind = TOKEN_KINDS.find((known) => known === tokenKind);
      if (kind === undefined || typeof text !== "string") return undefined;
      tokens.push({ kind, text });
    }
    checked.push(tokens);
  }
  return { lines: checked, more, moreIsLowerBound };
}
