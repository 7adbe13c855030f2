import { untilAborted } from "../until-aborted.js";

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
   * files races a million receipts ({@link untilAborted}).
   */
  race<T>(work: Promise<T>): Promise<T | typeof INTERRUPTED> {
    work.catch(() => undefined);
    return untilAborted(work, this.#signal, INTERRUPTED);
  }
}
