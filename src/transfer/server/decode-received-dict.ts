import { decodeDict, type DictFormat } from "../../codecs/dict-format.js";
import { dictJsonText } from "../../codecs/dict-json-text.js";
import { printableDict, type PrintableDict } from "../../codecs/dict-printable.js";
import type { DictObject } from "../../codecs/dict-value.js";
import type { DictLimits } from "../../codecs/limits.js";
import type { DictWants } from "./dict-job.js";
import { renderStoredDict, type StoredDictSink } from "./format-stored-dict.js";

/** What a received dictionary gives once decoded; what was not wanted is undefined. */
export interface DecodedDict {
  readonly printable: PrintableDict | undefined;
  readonly value: DictObject | undefined;
  readonly jsonText: string | undefined;
}

/**
 * Everything the server does with a received dictionary's bytes, in one place, so that
 * it runs the same on the event loop (a small dictionary) and in a worker: decodes and
 * checks them, writes the stored text into `stored` ([V-DICT]) when the server saves,
 * and lays out what listeners want of it.
 *
 * @throws {CodecError} DICT_INVALID, DICT_TOO_LARGE, DICT_TOO_DEEP.
 */
export function decodeReceivedDict(
  bytes: Uint8Array,
  format: DictFormat,
  limits: DictLimits,
  wants: DictWants,
  stored: StoredDictSink | null,
): DecodedDict {
  const value = decodeDict(bytes, format, limits);
  if (stored !== null) renderStoredDict(value, bytes.byteLength, stored);
  return {
    printable: wants.printable ? printableDict(value) : undefined,
    value: wants.value ? value : undefined,
    jsonText: wants.jsonText ? dictJsonText(value) : undefined,
  };
}
