/**
 * Slabs of this size by default: below the C library's threshold for mapping memory of
 * its own (128 KiB at first), so that a new slab reuses memory freed before instead of
 * faulting in fresh pages. Reading a tree of small files into 1 MiB slabs took twice the
 * CPU, most of it the kernel's page faults.
 */
export const DEFAULT_SLAB_BYTES = 64 * 1024;

/**
 * Memory for many small buffers (the files of a tree, a few KiB each): slices of larger
 * slabs. A buffer of its own for each costs more to allocate, and the garbage collector
 * more to track, than what is done with it; a slab goes once no slice of it is referenced.
 */
export class SlabAllocator {
  readonly #slabBytes: number;
  #slab: Buffer = Buffer.allocUnsafeSlow(0);
  #used = 0;

  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    this.#slabBytes = slabBytes;
  }

  /** A buffer of `bytes` (uninitialised): a slice of the current slab, or of a new one. */
  take(bytes: number): Buffer {
    if (this.#used + bytes > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(Math.max(this.#slabBytes, bytes));
      this.#used = 0;
    }
    const slice = this.#slab.subarray(this.#used, this.#used + bytes);
    this.#used += bytes;
    return slice;
  }

  /**
   * Gives back the last `bytes` of the buffer {@link take} returned last, which the caller
   * did not use, to the next one.
   */
  giveBack(bytes: number): void {
    this.#used -= bytes;
  }
}
