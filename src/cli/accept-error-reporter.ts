import type { NetworkError } from "../errors.js";
import { hintFor } from "./hints.js";
import type { Terminal } from "./terminal.js";
import { escapeTerminalLine } from "./terminal-text.js";

/** At most one report of accept errors per this many milliseconds, after the first. */
export const ACCEPT_ERROR_REPORT_INTERVAL_MS = 10_000;

/**
 * Reports gb-server's accept errors (a connection it could not accept: out of file
 * descriptors, most often) without flooding the terminal. Such errors come in storms,
 * one per connection attempt, for as long as the cause lasts: the first is reported at
 * once, with a hint; those that follow within {@link ACCEPT_ERROR_REPORT_INTERVAL_MS}
 * are counted and reported together when it ends (how many, and the last one's
 * message), and so on while they keep coming. As text, a `warning:` line on stderr;
 * with `--json`, an `acceptError` event on stdout whose `count` says how many errors
 * it stands for.
 */
export class AcceptErrorReporter {
  readonly #terminal: Terminal;
  readonly #json: boolean;
  readonly #intervalMs: number;
  /** Set while an interval runs: errors are then counted, not written. */
  #timer: NodeJS.Timeout | undefined;
  #held = 0;
  #last: NetworkError | undefined;
  #hinted = false;

  constructor(terminal: Terminal, json: boolean, intervalMs = ACCEPT_ERROR_REPORT_INTERVAL_MS) {
    this.#terminal = terminal;
    this.#json = json;
    this.#intervalMs = intervalMs;
  }

  report(error: NetworkError): void {
    if (this.#timer !== undefined) {
      this.#held++;
      this.#last = error;
      return;
    }
    this.#write(error, 1);
    this.#startInterval();
  }

  /** Reports the errors held back, now: when the server stops. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writeHeld();
  }

  #startInterval(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Still storming: the next report waits for the end of another interval.
      if (this.#writeHeld()) this.#startInterval();
    }, this.#intervalMs);
    // A pending report never keeps the process alive.
    this.#timer.unref();
  }

  /** Writes the errors held back, if any; true when there were. */
  #writeHeld(): boolean {
    const last = this.#last;
    if (last === undefined) return false;
    this.#write(last, this.#held);
    this.#held = 0;
    this.#last = undefined;
    return true;
  }

  #write(error: NetworkError, count: number): void {
    if (this.#json) {
      this.#terminal.json({
        event: "acceptError",
        code: error.code,
        errno: errnoOf(error),
        message: error.message,
        count,
      });
      return;
    }
    const text =
      count === 1
        ? error.message
        : `${count} more connections could not be accepted; the last: ${error.message}`;
    this.#terminal.warn(escapeTerminalLine(text));
    if (this.#hinted) return;
    this.#hinted = true;
    const hint = hintFor(error, "gb-server");
    if (hint !== undefined) this.#terminal.hint(hint);
  }
}

/** The system error's code (EMFILE...), or null. */
function errnoOf(error: NetworkError): string | null {
  const cause: unknown = error.cause;
  if (cause instanceof Error && "code" in cause && typeof cause.code === "string") {
    return cause.code;
  }
  return null;
}
