import { readFile } from "node:fs/promises";

/** A file being read ahead: its bytes, at once when they are in, or when they come. */
export interface AheadRead {
  /** The file's bytes if they have been read (and then its budget is given back). */
  ready(): Buffer | undefined;
  /** The file's bytes once read. @throws what reading the file threw. */
  take(): Promise<Buffer>;
}

/**
 * Small files read ahead of their turn, within a budget of bytes: a tree of thousands of
 * small files then goes out without a wait on the disk between two of them (their reads
 * overlap the sending of the files before), and memory stays bounded however many files
 * are queued. Reads start in the order they are asked for.
 */
export class ReadAhead {
  readonly #budgetBytes: number;
  readonly #minChargeBytes: number;
  #usedBytes = 0;
  readonly #waiting: { readonly bytes: number; readonly start: () => void }[] = [];

  /**
   * @param budgetBytes bytes read ahead and not yet taken, at most.
   * @param minChargeBytes what a file counts at least, so that the number of empty files
   *   read ahead is bounded too.
   */
  constructor(budgetBytes: number, minChargeBytes: number) {
    this.#budgetBytes = budgetBytes;
    this.#minChargeBytes = minChargeBytes;
  }

  /**
   * Reads the file at `filePath` (of about `size` bytes) once the budget allows. Take its
   * bytes once, when the file's turn comes: that gives its share of the budget back.
   */
  read(filePath: string, size: number): AheadRead {
    const charge = Math.max(size, this.#minChargeBytes);
    let content: Buffer | undefined;
    let taken = false;
    const reading = this.#admit(charge)
      .then(() => readFile(filePath))
      .then((bytes) => {
        content = bytes;
        return bytes;
      });
    // Read failures are the caller's, when it takes the content; none goes unhandled.
    reading.catch(() => undefined);
    const release = (): void => {
      if (taken) return;
      taken = true;
      this.#release(charge);
    };
    return {
      ready: () => {
        if (content !== undefined) release();
        return content;
      },
      take: async () => {
        try {
          return await reading;
        } finally {
          release();
        }
      },
    };
  }

  #admit(charge: number): Promise<void> {
    // A file larger than the whole budget is read alone, not never.
    if (
      this.#waiting.length === 0 &&
      (this.#usedBytes === 0 || this.#usedBytes + charge <= this.#budgetBytes)
    ) {
      this.#usedBytes += charge;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#waiting.push({ bytes: charge, start: resolve });
    });
  }

  #release(charge: number): void {
    this.#usedBytes -= charge;
    for (let next = this.#waiting[0]; next !== undefined; next = this.#waiting[0]) {
      if (this.#usedBytes !== 0 && this.#usedBytes + next.bytes > this.#budgetBytes) return;
      this.#waiting.shift();
      this.#usedBytes += next.bytes;
      next.start();
    }
  }
}
