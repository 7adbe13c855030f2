import { CodecError, ErrorCode, type GbErrorOptions } from "../../errors.js";

/**
 * A dictionary input whose text is not JSON at all, as opposed to JSON that is not a
 * valid dictionary (a plain {@link CodecError}): the user most likely named the wrong
 * input.
 */
export class DictTextError extends CodecError {
  /** The input as it was named: a path, or `-` for standard input. */
  readonly input: string;

  constructor(input: string, message: string, options: GbErrorOptions = {}) {
    super(ErrorCode.DICT_INVALID, message, options);
    this.input = input;
  }
}
