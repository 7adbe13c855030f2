import type { DictFormat } from "../codecs/dict-format.js";

/** gb-client's options as commander parses them. */
export interface ClientFlags {
  host: string;
  port: number;
  dict?: string;
  format: "json" | "binary" | "xml";
  file: string[];
  /** `--encrypt`; absent unless given (the host and the key decide then). */
  encrypt?: boolean;
  /** `--plaintext`; absent unless given. */
  plaintext?: boolean;
  keyFile?: string;
  json: boolean;
}

/** `--format` names as users know them, mapped to wire formats. */
export const FORMAT_BY_OPTION: Readonly<Record<ClientFlags["format"], DictFormat>> = {
  json: "json",
  binary: "msgpack",
  xml: "xml",
};
