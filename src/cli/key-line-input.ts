import { KEY_TEXT_CHARACTERS, KEY_TEXT_PREFIX } from "../crypto/key-text.js";
import { CryptoError, ErrorCode, InputError } from "../errors.js";

/**
 * The most gb-key import reads from standard input, in bytes: a key text is 73
 * characters, and white space around it is allowed, but not without end.
 */
export const MAX_KEY_INPUT_BYTES = 4096;

/** [KEY-TEXT] The white space allowed around a key text: space, tab, CR, LF. */
const SURROUNDING_WHITE_SPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;

/** A line break left inside the text once the white space around it is gone. */
const LINE_BREAK = /[\r\n]/;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** What to give gb-key import, for every refusal of what it was given. */
const INPUT_HINT = `give the one line that gb-key export prints (${KEY_TEXT_PREFIX}…), for example: gb-key export | ssh HOST gb-key import`;

/** Where a key line is read from, and whether a person is typing it. */
export interface KeyLineSource {
  readonly stream: NodeJS.ReadableStream;
  /**
   * A terminal: reading stops at the end of the first line that holds anything, so that
   * pasting the line and pressing Enter is enough (no Ctrl-D).
   */
  readonly interactive: boolean;
}

/** True when `bytes` holds a line end after something other than white space. */
function endsALine(bytes: Buffer): boolean {
  const text = bytes.toString("latin1");
  const content = text.search(/[^ \t\r\n]/);
  return content !== -1 && text.indexOf("\n", content) !== -1;
}

/** Reads at most {@link MAX_KEY_INPUT_BYTES} + 1 bytes (enough to know there are more). */
async function readBounded(source: KeyLineSource): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source.stream) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      chunks.push(bytes);
      total += bytes.length;
      // Leaving the loop ends the stream: nothing more is read.
      if (total > MAX_KEY_INPUT_BYTES) break;
      if (source.interactive && endsALine(Buffer.concat(chunks))) break;
    }
  } catch (error) {
    throw new InputError(
      ErrorCode.INPUT_UNREADABLE,
      `cannot read standard input: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return Buffer.concat(chunks);
}

/**
 * [KEY-TEXT] Reads the one key line gb-key import is given on standard input: white
 * space (space, tab, CR, LF) around it is dropped; anything else is refused. The text is
 * returned as it is, for {@link decodeKeyText} to judge.
 *
 * Messages never quote the input: it may be key material.
 *
 * @throws {CryptoError} KEY_MISSING when there is nothing but white space; KEY_INVALID
 *   when the input is too large, not UTF-8, or more than one line.
 * @throws {InputError} INPUT_UNREADABLE when standard input cannot be read.
 */
export async function readKeyLine(source: KeyLineSource): Promise<string> {
  const bytes = await readBounded(source);
  if (bytes.length > MAX_KEY_INPUT_BYTES) {
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      `standard input is over ${MAX_KEY_INPUT_BYTES} bytes; a key text is one line of ${KEY_TEXT_CHARACTERS} characters`,
      { hint: INPUT_HINT },
    );
  }
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch (error) {
    throw new CryptoError(ErrorCode.KEY_INVALID, "standard input is not UTF-8 text", {
      cause: error,
      hint: INPUT_HINT,
    });
  }
  if (source.interactive) {
    // Whatever follows the first line typed is not read on purpose; drop what came with it.
    const firstLineEnd = text.indexOf("\n", text.search(/[^ \t\r\n]/));
    if (firstLineEnd !== -1) text = text.slice(0, firstLineEnd);
  }
  const line = text.replace(SURROUNDING_WHITE_SPACE, "");
  if (line === "") {
    throw new CryptoError(ErrorCode.KEY_MISSING, "standard input holds no key text", {
      hint: INPUT_HINT,
    });
  }
  if (LINE_BREAK.test(line)) {
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      "standard input holds more than one line; a key text is one line",
      { hint: INPUT_HINT },
    );
  }
  return line;
}
