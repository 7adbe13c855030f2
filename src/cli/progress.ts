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
  #detail: string | undefined;

  constructor(stream: Writable, enabled: boolean) {
    this.#stream = stream;
    this.#enabled = enabled;
  }

  /**
   * Reports `bytesSent` of `label`, out of `total` bytes when known; `detail` (a
   * directory tree's files done and time left) goes at the end of the line.
   */
  update(label: string, bytesSent: number, total?: number, detail?: string): void {
    if (!this.#enabled) return;
    if (label !== this.#label) {
      this.#label = label;
      this.#startedAt = Date.now();
    }
    this.#bytes = bytesSent;
    this.#total = total;
    this.#detail = detail;
    if (this.#spinner !== undefined) {
      this.#spinner.text = this.#text();
      return;
    }
    if (!this.#loading && Date.now() - this.#startedAt >= SHOW_AFTER_MS) {
      this.#loading = true;
      void import("ora").then(({ default: ora }) => {
        if (!this.#loading) return;
        this.#spinner = ora({ stream: this.#stream, text: this.#text() }).start();
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
    const detail = this.#detail === undefined ? "" : ` · ${this.#detail}`;
    return `sending ${escapeTerminalLine(this.#label)} · ${done} · ${rate}/s${detail}`;
  }
}
