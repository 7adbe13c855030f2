/** What {@link Interruption.race} returns when the user interrupted first. */
export const INTERRUPTED = Symbol("interrupted");

/**
 * Ctrl-C as a value to race against: every wait of gb-client (reading standard input,
 * deriving a key, connecting, sending, waiting for receipts) is raced against the user's
 * interrupt, so that none of them can hold the program once the user asked it to stop.
 *
 * It listens to the signal once, for all its races: a tree of 10,000 files races 10,000
 * receipts, and an abort listener added and removed per race costs more than the rest
 * of the race together.
 */
export class Interruption {
  readonly #signal: AbortSignal;
  /** The races not over yet: each one's way to end with {@link INTERRUPTED}. */
  readonly #waiting = new Set<() => void>();
  readonly #onAbort = (): void => {
    for (const interrupt of this.#waiting) interrupt();
    this.#waiting.clear();
  };

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    if (!signal.aborted) signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /**
   * Stops listening to the signal, once the run is over: a caller may give the same
   * signal to one run after another. Races still waiting then wait for their work alone.
   */
  release(): void {
    this.#signal.removeEventListener("abort", this.#onAbort);
  }

  /** True once the user interrupted. */
  get interrupted(): boolean {
    return this.#signal.aborted;
  }

  /** Races not over yet (each is forgotten once its work settles). */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * `work`'s outcome, or {@link INTERRUPTED} if the user interrupted first (at once when
   * they have already). A `work` that loses the race and fails later is not reported
   * again (the run is over).
   */
  race<T>(work: Promise<T>): Promise<T | typeof INTERRUPTED> {
    if (this.#signal.aborted) {
      work.catch(() => undefined);
      return Promise.resolve(INTERRUPTED);
    }
    return new Promise((resolve, reject) => {
      const interrupt = (): void => {
        resolve(INTERRUPTED);
      };
      this.#waiting.add(interrupt);
      work.then(
        (value) => {
          this.#waiting.delete(interrupt);
          resolve(value);
        },
        (error: unknown) => {
          this.#waiting.delete(interrupt);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
