/** What readme-example-probe.ts reports of a run of the README's library example. */

/** One item the example sent, and how its send settled. */
export interface SentRecord {
  readonly kind: "dict" | "file" | "stream";
  /** Absolute path of a file item's source; null otherwise. */
  readonly source: string | null;
  /** A dictionary in the package's own JSON encoding; null otherwise, or if it had none. */
  readonly json: string | null;
  result: { readonly bytes: number; readonly sha256: string } | null;
  /** The error's code (or message, for an error without one) when the send failed. */
  error: string | null;
}

/** One item a server received and stored. */
export interface ReceivedRecord {
  readonly kind: "dict" | "file" | "dir";
  readonly bytes: number;
  readonly sha256: string;
  readonly savedPath: string | null;
}

export interface ExampleReport {
  readonly sent: SentRecord[];
  readonly received: ReceivedRecord[];
  readonly failures: { readonly code: string; readonly message: string }[];
}

/** The environment variable that names the report file. */
export const REPORT_VARIABLE = "README_EXAMPLE_REPORT";
