/**
 * Strict UTF-8 decoding shared by the codecs: malformed bytes are an error, never silently
 * replaced with U+FFFD, so what we decode is exactly what the peer sent.
 */

import { CodecError, ErrorCode } from "../errors.js";

// `fatal` makes malformed input (including encoded surrogates) throw instead of
// substituting U+FFFD.
const documentDecoder = new TextDecoder("utf-8", { fatal: true });
// A string value is data: a leading U+FEFF in it is a character to keep, not a byte order
// mark to drop.
const exactDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** How {@link decodeStrictUtf8} treats a leading U+FEFF. */
export interface StrictUtf8Options {
  /**
   * Keep a leading U+FEFF as part of the text. Defaults to false: a whole document may
   * start with a byte order mark, which both JSON (RFC 8259 section 8.1) and XML allow and
   * which is not part of its content.
   */
  readonly keepByteOrderMark?: boolean;
}

/**
 * Decodes `bytes` as UTF-8, refusing malformed sequences.
 *
 * @throws {@link CodecError} `DICT_INVALID` when `bytes` is not well-formed UTF-8.
 */
export function decodeStrictUtf8(bytes: Uint8Array, options: StrictUtf8Options = {}): string {
  const decoder = options.keepByteOrderMark === true ? exactDecoder : documentDecoder;
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new CodecError(ErrorCode.DICT_INVALID, "dictionary text is not valid UTF-8", {
      cause: error,
    });
  }
}
