/** Writes one item's answer (RECEIPT or item ERROR) and reports it; run in item order. */
export type AnswerWriter = () => void;

/** An answer ready to write, or the commit that will make it. */
interface Answer {
  readonly writer?: AnswerWriter;
  readonly pending?: Promise<AnswerWriter>;
  /** What the answer's item costs the connection while it waits: see {@link AnswerQueue}. */
  readonly weight: number;
}

/**
 * The answers of one connection's items, in item order [K-ORDER], whatever order their
 * commits finish in. An item's answer is pushed when the item ends; a committed item's
 * answer waits for its commit, which runs alongside the items after it, so that the
 * flushes of many small files overlap and their directory is synced once for all of
 * them [V-GROUP]. Nothing is written ahead of an earlier item's answer.
 *
 * An answer whose writer is ready and has nothing ahead of it runs at once, within
 * {@link push}.
 */
export class AnswerQueue {
  readonly #limit: number;
  readonly #queue: Answer[] = [];
  /** The weights of the answers held, together. */
  #held = 0;
  #running = false;
  #waiters: (() => void)[] = [];

  /**
   * @param limit what the answers held (items committing) may weigh together before the
   *   connection must wait: each answer weighs what {@link push} says.
   */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Items whose answers are not written yet. */
  get size(): number {
    return this.#queue.length;
  }

  /**
   * Adds the next item's answer: a writer, or a promise of one (never rejects). `weight`
   * is what its item holds while it waits (1 by default).
   */
  push(answer: AnswerWriter | Promise<AnswerWriter>, weight = 1): void {
    this.#held += weight;
    this.#queue.push(
      answer instanceof Promise ? { pending: answer, weight } : { writer: answer, weight },
    );
    if (!this.#running) this.#run();
  }

  /** A promise while the queue holds its limit: the connection reads nothing more until it settles. */
  room(): Promise<void> | undefined {
    return this.#held < this.#limit ? undefined : this.#until(() => this.#held < this.#limit);
  }

  /** Undefined when every answer has been written; otherwise resolves once they have. */
  idle(): Promise<void> | undefined {
    return this.#queue.length === 0 ? undefined : this.#until(() => this.#queue.length === 0);
  }

  #until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (done()) resolve();
        else this.#waiters.push(check);
      };
      check();
    });
  }

  #run(): void {
    this.#running = true;
    for (let head = this.#queue[0]; head !== undefined; head = this.#queue[0]) {
      const writer = head.writer;
      if (writer === undefined) {
        // Its commit is still running: the answers behind it wait (it never rejects).
        void head.pending?.then((ready) => {
          this.#queue[0] = { writer: ready, weight: head.weight };
          this.#run();
        });
        return;
      }
      this.#queue.shift();
      this.#held -= head.weight;
      writer();
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter();
    }
    this.#running = false;
  }
}
