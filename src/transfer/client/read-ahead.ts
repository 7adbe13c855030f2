import { closeSync, openSync, readSync } from "node:fs";
import { SlabAllocator } from "../../slab-allocator.js";

/**
 * Files read one after the other in one turn of the event loop, at most: the reads are
 * synchronous, and the loop must still hear the socket and Ctrl-C between batches.
 */
const READS_PER_TURN = 64;

/** Reads small files whole, into slices of slabs ({@link SlabAllocator}). */
export class SlabReader {
  readonly #slabs = new SlabAllocator();

  /**
   * Reads the file at `filePath`, expected to hold `size` bytes, whole: synchronously, as
   * one open, a read and a close. A small file costs a few microseconds that way, where
   * `fs.promises.readFile` costs four trips through libuv's thread pool, many times more.
   * It reads at most one byte more than `size`, enough for the server to see that the
   * file changed size [V-SIZE] without reading a file that has grown to any size.
   * @throws what `fs.openSync` or `fs.readSync` throws.
   */
  read(filePath: string, size: number): Buffer {
    const fd = openSync(filePath, "r");
    try {
      const buffer = this.#slabs.take(size + 1);
      let filled = 0;
      while (filled < buffer.length) {
        const wanted = buffer.length - filled;
        const read = readSync(fd, buffer, filled, wanted, null);
        filled += read;
        // A regular file reads short only at its end: one call for a file that kept its
        // size, not a second one to find the end.
        if (read === 0 || (read < wanted && filled === size)) break;
      }
      // What the file did not fill stays free for the next one.
      this.#slabs.giveBack(buffer.length - filled);
      return buffer.subarray(0, filled);
    } finally {
      closeSync(fd);
    }
  }

  /** Says that nothing refers to `bytes`, which {@link read} returned, any more. */
  release(bytes: Uint8Array): void {
    this.#slabs.release(bytes);
  }
}

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
  /** Reads admitted and not yet made, made {@link READS_PER_TURN} per turn. */
  readonly #reads: (() => void)[] = [];
  #readsScheduled = false;
  readonly #slabs = new SlabReader();

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
      .then(() => this.#readSoon(filePath, size))
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

  /**
   * Says that nothing refers to `bytes` (what a read gave, once taken) any more: its
   * memory is used again for files read after. Call it once, when the bytes were sent.
   */
  readonly recycle = (bytes: Uint8Array): void => {
    this.#slabs.release(bytes);
  };

  #readSoon(filePath: string, size: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#reads.push(() => {
        try {
          resolve(this.#slabs.read(filePath, size));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      if (this.#readsScheduled) return;
      this.#readsScheduled = true;
      setImmediate(() => {
        this.#makeReads();
      });
    });
  }

  #makeReads(): void {
    for (const read of this.#reads.splice(0, READS_PER_TURN)) read();
    if (this.#reads.length === 0) this.#readsScheduled = false;
    else
      setImmediate(() => {
        this.#makeReads();
      });
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
