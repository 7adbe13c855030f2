/** What {@link Interruption.race} returns when the user interrupted first. */
export const INTERRUPTED = Symbol("interrupted");

/**
 * Ctrl-C as a value to race against: every wait of gb-client (reading standard input,
 * deriving a key, connecting, sending, waiting for receipts) is raced against the user's
 * interrupt, so that none of them can hold the program once the user asked it to stop.
 */
export class Interruption {
  readonly #signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
  }

  /** True once the user interrupted. */
  get interrupted(): boolean {
    return this.#signal.aborted;
  }

  /**
   * `work`'s outcome, or {@link INTERRUPTED} if the user interrupted first. A `work`
   * that loses the race and fails later is not reported again (the run is over).
   *
   * Each race listens for the interrupt only until `work` settles: a tree of a million
   * files races a million receipts, and `Promise.race` with one long-lived promise would
   * keep a reaction on it for every one of them until the program ends.
   */
  race<T>(work: Promise<T>): Promise<T | typeof INTERRUPTED> {
    work.catch(() => undefined);
    const signal = this.#signal;
    if (signal.aborted) return Promise.resolve(INTERRUPTED);
    return new Promise((resolve, reject) => {
      const interrupted = (): void => {
        resolve(INTERRUPTED);
      };
      signal.addEventListener("abort", interrupted, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener("abort", interrupted);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", interrupted);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
