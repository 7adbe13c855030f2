/** gb-key's subcommands. */
export const KEY_SUBCOMMANDS = ["generate", "fingerprint", "export", "import"] as const;
export type KeySubcommand = (typeof KEY_SUBCOMMANDS)[number];

/** The options of a gb-key subcommand, as commander parses them. */
export interface KeyFlags {
  /** The key file; the per-user key file when absent. */
  readonly keyFile?: string;
  readonly json: boolean;
  /** generate and import only: replace a key file that holds another key. */
  readonly force?: boolean;
}
