/** Writes one item's frames; a promise when the item is streamed and takes a while. */
export type SendJob = () => Promise<void> | undefined;

/** What the queue needs of the connection it writes to. */
export interface SendTarget {
  /** True while the socket's write buffer is full. */
  readonly full: () => boolean;
  /** Resolves when the socket has room again. @throws when the connection closed first. */
  readonly drain: () => Promise<void>;
}

/**
 * Runs a client's send jobs one after another, in the order they were pushed, waiting
 * for the socket to drain between them when it is full.
 *
 * A job pushed while nothing is queued and the socket has room runs at once, inside
 * {@link push}: a pipelined dictionary then costs no promise and no wait. Jobs pushed
 * behind a long one wait in a plain array (not a chain of promises), so a caller that
 * queues thousands of items holds little memory per item.
 */
export class SendQueue {
  readonly #target: SendTarget;
  readonly #onError: (error: unknown) => void;
  #jobs: (SendJob | undefined)[] = [];
  #head = 0;
  #running: Promise<void> | undefined;
  /** A job is running inside {@link push}; a job it pushes must wait for it. */
  #inline = false;
  /** A run is going; false again once it ended, even within the call that started it. */
  #active = false;

  /** @param onError receives what a job (or a wait for the socket) threw; the queue goes on. */
  constructor(target: SendTarget, onError: (error: unknown) => void) {
    this.#target = target;
    this.#onError = onError;
  }

  /** Runs `job` after every job pushed before it. */
  push(job: SendJob): void {
    if (this.#active || this.#inline || this.#target.full()) {
      this.#jobs.push(job);
      if (!this.#inline && !this.#active) this.#start(undefined);
      return;
    }
    this.#inline = true;
    let pending: Promise<void> | undefined;
    try {
      pending = job();
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#inline = false;
    }
    if (pending !== undefined || this.#head < this.#jobs.length) this.#start(pending);
  }

  /** True when no job is waiting or running. */
  get idleNow(): boolean {
    return !this.#active;
  }

  /** Resolves once every job pushed so far has finished. Never rejects. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /**
   * Starts a run. A run whose jobs are all synchronous ends within this call: it must
   * not then be kept as the run in progress, or no later job would ever run.
   */
  #start(first: Promise<void> | undefined): void {
    const run = this.#run(first);
    if (this.#active) this.#running = run;
  }

  async #run(first: Promise<void> | undefined): Promise<void> {
    this.#active = true;
    if (first !== undefined) await first.catch(this.#onError);
    while (this.#head < this.#jobs.length) {
      const job = this.#jobs[this.#head];
      this.#jobs[this.#head] = undefined;
      this.#head++;
      if (job === undefined) continue;
      try {
        if (this.#target.full()) await this.#target.drain();
      } catch (error) {
        // The connection failed; the job still runs, and fails its item.
        this.#onError(error);
      }
      try {
        const pending = job();
        if (pending !== undefined) await pending;
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#jobs = [];
    this.#head = 0;
    this.#running = undefined;
    this.#active = false;
  }
}
