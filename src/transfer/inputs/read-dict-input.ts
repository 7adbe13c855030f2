import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { DictObject } from "../../codecs/dict-value.js";
import { DEFAULT_DICT_LIMITS } from "../../codecs/limits.js";
import { CodecError, ErrorCode, InputError } from "../../errors.js";
import { InputFileError, inputFileError } from "./input-file-error.js";
import { parseDictText } from "./parse-dict-text.js";

const BYTES_PER_MIB = 1024 * 1024;

/**
 * Largest dictionary input read before it is refused: its JSON text may be larger than
 * its encoded form (white space), but not without bound.
 */
export const MAX_DICT_INPUT_BYTES = 4 * DEFAULT_DICT_LIMITS.maxBytes;

/** Where a dictionary's JSON text comes from: a file, or standard input. */
export type DictInput = { readonly path: string } | { readonly stdin: AsyncIterable<Uint8Array> };

/** The input as the user names it: its path, or `-` for standard input. */
export function dictInputLabel(input: DictInput): string {
  return "path" in input ? input.path : "-";
}

/**
 * Reads a dictionary from the JSON text of a file or of standard input.
 *
 * At most {@link MAX_DICT_INPUT_BYTES} are read: a regular file over it is refused by
 * its size before it is read, anything else (standard input, a pipe, a device) as soon
 * as that much has arrived.
 *
 * @throws {InputFileError} INPUT_UNREADABLE when the file cannot be examined or read, or
 *   is a directory.
 * @throws {InputError} INPUT_UNREADABLE when standard input cannot be read.
 * @throws {CodecError} DICT_TOO_LARGE over the cap; see {@link parseDictText} for the rest.
 */
export async function readDictInput(input: DictInput): Promise<DictObject> {
  return parseDictText(await readDictText(input), dictInputLabel(input));
}

async function readDictText(input: DictInput): Promise<string> {
  const where = "path" in input ? `in ${input.path}` : "on stdin";
  const tooLarge = (): CodecError =>
    new CodecError(
      ErrorCode.DICT_TOO_LARGE,
      `the dictionary ${where} is too large (more than ${MAX_DICT_INPUT_BYTES / BYTES_PER_MIB} MiB)`,
    );
  let source: AsyncIterable<Uint8Array>;
  if ("path" in input) {
    let isFile: boolean;
    let size: number;
    try {
      const info = await stat(input.path);
      if (info.isDirectory()) {
        throw new InputFileError(`${input.path} is a directory, not a file holding a dictionary`, {
          path: input.path,
          reason: "not-a-file",
          kind: "dict",
        });
      }
      isFile = info.isFile();
      size = info.size;
    } catch (error) {
      if (error instanceof InputFileError) throw error;
      throw inputFileError(input.path, "dict", error);
    }
    if (isFile && size > MAX_DICT_INPUT_BYTES) throw tooLarge();
    source = createReadStream(input.path);
  } else {
    source = input.stdin;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > MAX_DICT_INPUT_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof CodecError) throw error;
    if ("path" in input) throw inputFileError(input.path, "dict", error);
    const detail = error instanceof Error ? error.message : String(error);
    throw new InputError(ErrorCode.INPUT_UNREADABLE, `cannot read -: ${detail}`, {
      cause: error,
    });
  }
  return Buffer.concat(chunks).toString("utf8");
}
