/** What gb-client prints of each item, and of the session: human lines or --json events. */
import { ErrorCode } from "../errors.js";
import type { GbClient, SentItem } from "../transfer/client.js";
import { formatBytes } from "./format-bytes.js";
import { formatDuration } from "./format-duration.js";
import type { Terminal } from "./terminal.js";
import { escapeTerminalLine } from "./terminal-text.js";

const MS_PER_SECOND = 1000;

/**
 * [H-FINGERPRINT] An encrypted session's fingerprint, so that the user can compare it
 * with the one gb-server shows: a note on standard error, or with --json a `session`
 * event (first, before the items' events). A plain connection has none.
 */
export function reportSession(terminal: Terminal, client: GbClient, json: boolean): void {
  const { encrypted, fingerprint } = client.session;
  if (fingerprint === null) return;
  if (json) terminal.json({ event: "session", encrypted, fingerprint });
  else terminal.note(`session encrypted · fingerprint ${fingerprint}`);
}

/** Where an item came from on the command line, and how long it took. */
export interface Reported {
  /** Its position in the order given (1-based). */
  readonly id: number;
  /** What the user gave (a path, or `-`); for an entry of a tree, its path in the tree. */
  readonly path: string;
}

/**
 * [CLI-JSON-FIELDS] A field means the same in every event: `name` is the item's name
 * (what the server was told), `path` what the user gave (an entry of a tree: its path in
 * the tree, top folder first).
 */
export function reportStored(
  terminal: Terminal,
  sent: SentItem,
  reported: Reported & { readonly durationMs: number },
  json: boolean,
): void {
  const receipt = sent.receipt;
  const seconds = Math.max(reported.durationMs, 1) / MS_PER_SECOND;
  // [RES-RESUME] the rate of what went out now, not of what the server already held.
  const resumed = sent.resumed ?? 0;
  // [RES-HAVE] an entry held was not sent at all: no rate.
  const bytesPerSecond = sent.held === true ? 0 : Math.round((sent.bytes - resumed) / seconds);
  if (json) {
    terminal.json({
      event: "stored",
      id: reported.id,
      kind: sent.kind,
      name: sent.name,
      path: reported.path,
      encrypted: sent.encrypted,
      bytes: sent.bytes,
      sha256: sent.sha256,
      savedAs: receipt.savedAs,
      storedSha256: receipt.storedSha256 ?? null,
      // [RES-RESUME] bytes not sent again; only for an item that asked to resume.
      ...(sent.resumed === undefined ? {} : { resumed: sent.resumed }),
      // [RES-HAVE] an entry the server had already stored: nothing was sent.
      ...(sent.held === true ? { held: true } : {}),
      durationMs: reported.durationMs,
      bytesPerSecond,
    });
    return;
  }
  const c = terminal.out;
  const where =
    receipt.savedAs === null
      ? "received (not saved)"
      : `stored as ${escapeTerminalLine(receipt.savedAs)}`;
  terminal.print(
    `${c.green("✔")} ${sent.kind} ${escapeTerminalLine(sent.name)} ${where} · ` +
      `${formatBytes(sent.bytes)} in ${formatDuration(reported.durationMs)} (${formatBytes(bytesPerSecond)}/s)` +
      (resumed > 0 ? ` · resumed at ${formatBytes(resumed)}` : "") +
      `${sent.encrypted ? " · encrypted" : ""} · sha256 ${sent.sha256}` +
      // [M-RECEIPT-STORED] the stored file of a dictionary is JSON text: its own hash,
      // which sha256sum on the server's machine shows.
      (receipt.storedSha256 === undefined ? "" : ` · stored file sha256 ${receipt.storedSha256}`),
  );
}

export function reportFailed(
  terminal: Terminal,
  reported: Reported & { readonly name: string },
  error: unknown,
  json: boolean,
): void {
  if (json) {
    terminal.json({
      event: "failed",
      id: reported.id,
      name: reported.name,
      path: reported.path,
      code: error instanceof Error && "code" in error ? String(error.code) : ErrorCode.INTERNAL,
      message: error instanceof Error ? error.message : String(error),
    });
    return;
  }
  terminal.error(error);
}
