import type { Writable } from "node:stream";
import type { Ora } from "ora";
import { formatBytes } from "./format-bytes.js";
import { formatDuration } from "./format-duration.js";
import { escapeTerminalLine } from "./terminal-text.js";

const MS_PER_SECOND = 1000;
/** Elapsed time never taken as less than this, so a first rate is finite. */
const MIN_ELAPSED_S = 0.001;

/** A transfer shorter than this shows no spinner at all. */
const SHOW_AFTER_MS = 400;

/**
 * Progress on stderr for long transfers, only on a terminal. ora is loaded on first
 * use so that short runs (and `--help`) never pay for it.
 */
export class Progress {
  readonly #stream: Writable;
  readonly #enabled: boolean;
  #spinner: Ora | undefined;
  #loading = false;
  readonly #verb: string;
  /** When each item in progress was first heard of: its rate is its own. */
  readonly #startedAt = new Map<string, number>();
  #label = "";
  #bytes = 0;
  #total: number | undefined;
  #detail: string | undefined;
  /** Bytes of the item the server already held: they count as done, not in the rate. */
  #from = 0;

  /**
   * @param enabled false when stderr is not a terminal (or with --json).
   * @param verb what the line says is happening: "sending", "receiving".
   */
  constructor(stream: Writable & { columns?: number }, enabled: boolean, verb = "sending") {
    this.#stream = stream;
    this.#verb = verb;
    // A terminal that reports no width (0 columns: a bare pseudo-terminal) would make ora
    // count infinitely many lines to clear, in a loop that never yields.
    this.#enabled = enabled && (stream.columns ?? 0) > 0;
  }

  /**
   * Reports `bytesSent` of `label`, out of `total` bytes when known; `detail` (a
   * directory tree's files done and time left) goes at the end of the line; `from`, the
   * bytes the server already held [RES-RESUME], count as done but not in the rate.
   */
  update(label: string, bytesSent: number, total?: number, detail?: string, from = 0): void {
    if (!this.#enabled) return;
    this.#label = label;
    this.#from = from;
    if (!this.#startedAt.has(label)) this.#startedAt.set(label, Date.now());
    this.#bytes = bytesSent;
    this.#total = total;
    this.#detail = detail;
    if (this.#spinner !== undefined) {
      this.#spinner.text = this.#text();
      return;
    }
    if (!this.#loading && Date.now() - this.#started() >= SHOW_AFTER_MS) {
      this.#loading = true;
      void import("ora").then(({ default: ora }) => {
        if (!this.#loading) return;
        // ora's default puts the terminal in raw mode to swallow keys typed meanwhile:
        // Ctrl-C would then reach nobody [CLI-INTERRUPT].
        this.#spinner = ora({
          stream: this.#stream,
          text: this.#text(),
          discardStdin: false,
        }).start();
      });
    }
  }

  /** Removes the spinner line so a result can be printed; it reappears on the next update. */
  clear(): void {
    this.#spinner?.clear();
  }

  /** `label` is over: its line goes; another item's comes back on its next update. */
  done(label: string): void {
    this.#startedAt.delete(label);
    if (label === this.#label) this.stop();
  }

  stop(): void {
    this.#loading = false;
    this.#spinner?.stop();
    this.#spinner = undefined;
  }

  #started(): number {
    return this.#startedAt.get(this.#label) ?? Date.now();
  }

  #text(): string {
    const elapsedMs = Date.now() - this.#started();
    const detail = this.#detail === undefined ? "" : ` · ${this.#detail}`;
    const line = progressLine(
      this.#label,
      this.#bytes,
      this.#total,
      elapsedMs,
      this.#verb,
      this.#from,
    );
    return line + detail;
  }
}

/**
 * [CLI-PROGRESS] The progress line: bytes, and with a known size the percentage; the
 * average rate; the time left at that rate.
 * "sending big.iso · 1.2 GiB of 4.0 GiB (30%) · 95 MiB/s · 31 s left".
 */
export function progressLine(
  label: string,
  bytes: number,
  total: number | undefined,
  elapsedMs: number,
  verb = "sending",
  from = 0,
): string {
  const seconds = Math.max(elapsedMs / MS_PER_SECOND, MIN_ELAPSED_S);
  // [RES-RESUME] what the server already held did not go out now.
  const bytesPerSecond = Math.max(0, bytes - from) / seconds;
  const rate = formatBytes(Math.round(bytesPerSecond));
  if (total === undefined || total === 0) {
    return `${verb} ${escapeTerminalLine(label)} · ${formatBytes(bytes)} · ${rate}/s`;
  }
  const percent = Math.floor((bytes / total) * 100);
  const left =
    bytesPerSecond > 0
      ? ` · ${formatDuration(((total - bytes) / bytesPerSecond) * MS_PER_SECOND)} left`
      : "";
  return (
    `${verb} ${escapeTerminalLine(label)} · ${formatBytes(bytes)} of ` +
    `${formatBytes(total)} (${percent}%) · ${rate}/s${left}`
  );
}
