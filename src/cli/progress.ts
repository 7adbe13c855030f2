import type { Writable } from "node:stream";
import type { Ora } from "ora";
import { formatBytes } from "./format-bytes.js";
import { escapeTerminalLine } from "./terminal-text.js";

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
  #startedAt = Date.now();
  #label = "";
  #bytes = 0;
  #total: number | undefined;

  /**
   * @param enabled false when stderr is not a terminal (or with --json).
   */
  constructor(stream: Writable & { columns?: number }, enabled: boolean) {
    this.#stream = stream;
    // A terminal that reports no width (0 columns: a bare pseudo-terminal) would make ora
    // count infinitely many lines to clear, in a loop that never yields.
    this.#enabled = enabled && (stream.columns ?? 0) > 0;
  }

  /** Reports `bytesSent` of `label`, out of `total` bytes when known. */
  update(label: string, bytesSent: number, total?: number): void {
    if (!this.#enabled) return;
    if (label !== this.#label) {
      this.#label = label;
      this.#startedAt = Date.now();
    }
    this.#bytes = bytesSent;
    this.#total = total;
    if (this.#spinner !== undefined) {
      this.#spinner.text = this.#text();
      return;
    }
    if (!this.#loading && Date.now() - this.#startedAt >= SHOW_AFTER_MS) {
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

  stop(): void {
    this.#loading = false;
    this.#spinner?.stop();
    this.#spinner = undefined;
  }

  #text(): string {
    const seconds = Math.max((Date.now() - this.#startedAt) / 1000, 0.001);
    const rate = formatBytes(Math.round(this.#bytes / seconds));
    const total = this.#total;
    const done =
      total === undefined || total === 0
        ? formatBytes(this.#bytes)
        : `${formatBytes(this.#bytes)} of ${formatBytes(total)} (${Math.floor((this.#bytes / total) * 100)}%)`;
    return `sending ${escapeTerminalLine(this.#label)} · ${done} · ${rate}/s`;
  }
}
