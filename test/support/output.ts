import type { Readable } from "node:stream";
import { isProgressEvent, parseEventLine } from "./json-event.js";

/**
 * Collects everything written to one stream (a child's stdout, or an in-memory stream
 * given to a CLI command) and lets a test wait, bounded, for what it expects to see.
 */
export class Output {
  readonly #chunks: Buffer[] = [];
  readonly #listeners = new Set<() => void>();
  readonly #waitMs: number;
  #ended = false;

  /** `waitMs` bounds {@link waitFor} when it is given no bound of its own. */
  constructor(stream: Readable | null, waitMs: number) {
    this.#waitMs = waitMs;
    if (stream === null) {
      this.#ended = true;
      return;
    }
    stream.on("data", (chunk: Buffer | string) => {
      this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      this.#notify();
    });
    stream.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  get buffer(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  get text(): string {
    return this.buffer.toString("utf8");
  }

  /** The complete lines so far. */
  get lines(): string[] {
    const text = this.text;
    const end = text.lastIndexOf("\n");
    return end < 0 ? [] : text.slice(0, end).split("\n");
  }

  /**
   * Every complete `{...}` line, parsed as JSON (for --json output), without gb-client's
   * `progress` events; each event's `time` checked and removed ({@link parseEventLine}).
   */
  get json(): Record<string, unknown>[] {
    return this.events.filter((event) => !isProgressEvent(event));
  }

  /** Every complete `{...}` line, parsed as JSON, each event's `time` checked and removed. */
  get events(): Record<string, unknown>[] {
    return this.lines.filter((line) => line.startsWith("{")).map(parseEventLine);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /**
   * Resolves with the first non-undefined result of `probe` (re-evaluated on every
   * write); rejects after `ms`, when `probe` throws, or when the stream ends without it.
   */
  async waitFor<T>(
    probe: (output: this) => T | undefined,
    what: string,
    ms = this.#waitMs,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        let result: T | undefined;
        try {
          result = probe(this);
        } catch (error) {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (result !== undefined) {
          finish();
          resolve(result);
        } else if (this.#ended) {
          finish();
          reject(new Error(`stream ended before ${what}; it held:\n${this.text}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; so far:\n${this.text}`));
      }, ms);
      const finish = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }
}
