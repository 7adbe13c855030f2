import type { DictFormat } from "../codecs/dict-format.js";

/** gb-client's options as commander parses them. */
export interface ParsedClientFlags {
  host: string;
  port: number;
  /** Repeatable; absent when not given. */
  dict?: string[];
  /** Absent when not given: json, but a usage error without --dict. */
  format?: "json" | "binary" | "xml";
  file?: string[];
  /** The name of the item read from standard input. */
  name?: string;
  /** `--encrypt`; absent unless given (the host and the key decide then). */
  encrypt?: boolean;
  /** `--plaintext`; absent unless given. */
  plaintext?: boolean;
  keyFile?: string;
  json: boolean;
  quiet: boolean;
  /** `--no-resume` makes it false: files are sent whole [RES-ASK]. */
  resume: boolean;
  /** `--no-batch` makes it false: each small file of a tree is an item of its own [T-BATCH]. */
  batch: boolean;
}

/** gb-client's options, the repeatable ones as lists (empty when not given). */
export interface ClientFlags extends ParsedClientFlags {
  dict: string[];
  file: string[];
}

/** `--format` names as users know them, mapped to wire formats. */
export const FORMAT_BY_OPTION: Readonly<Record<NonNullable<ClientFlags["format"]>, DictFormat>> = {
  json: "json",
  binary: "msgpack",
  xml: "xml",
};
