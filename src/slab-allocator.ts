/**
 * Slabs of this size by default: below the C library's threshold for mapping memory of
 * its own (128 KiB at first), so that a new slab reuses memory freed before instead of
 * faulting in fresh pages. Reading a tree of small files into 1 MiB slabs took twice the
 * CPU, most of it the kernel's page faults.
 */
export const DEFAULT_SLAB_BYTES = 64 * 1024;

/** Slabs kept for reuse once every slice of them was given back, at most. */
export const DEFAULT_FREE_SLABS = 64;

/** A slab and how many of its slices are still in use. */
interface Slab {
  readonly memory: Buffer;
  live: number;
}

const NO_SLAB: Slab = { memory: Buffer.allocUnsafeSlow(0), live: 0 };

/**
 * Memory for many small buffers (the files of a tree, a few KiB each): slices of larger
 * slabs. A buffer of its own for each costs more to allocate, and the garbage collector
 * more to track, than what is done with it.
 *
 * A slab whose every slice was {@link release}d is used again for new slices: memory
 * already in use, where a new slab is fresh memory whose every page the kernel must
 * fault in (on some virtual machines a fault costs as much as reading the page's file).
 * A slice never released is simply collected with its slab, once nothing refers to it.
 */
export class SlabAllocator {
  readonly #slabBytes: number;
  readonly #maxFree: number;
  #slab: Slab = NO_SLAB;
  #used = 0;
  /** The slab of each slab's memory, to find a released slice's. */
  readonly #slabs = new WeakMap<ArrayBufferLike, Slab>();
  readonly #free: Buffer[] = [];

  constructor(slabBytes = DEFAULT_SLAB_BYTES, maxFree = DEFAULT_FREE_SLABS) {
    this.#slabBytes = slabBytes;
    this.#maxFree = maxFree;
  }

  /** A buffer of `bytes` (uninitialised): a slice of the current slab, or of a new one. */
  take(bytes: number): Buffer {
    if (this.#used + bytes > this.#slab.memory.length) this.#newSlab(bytes);
    const slab = this.#slab;
    slab.live++;
    const slice = slab.memory.subarray(this.#used, this.#used + bytes);
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

  /**
   * Says that nothing refers to `slice` (a buffer {@link take} returned, or a view of it)
   * any more: once all of its slab's slices are released, the slab is used again. Call it
   * at most once per buffer taken, and only when no one will read or write it again.
   */
  release(slice: Uint8Array): void {
    const slab = this.#slabs.get(slice.buffer);
    if (slab === undefined || slab.live === 0) return;
    slab.live--;
    if (slab.live > 0) return;
    if (slab === this.#slab) {
      // The current slab: its slices start over from its beginning.
      this.#used = 0;
    } else if (this.#free.length < this.#maxFree && slab.memory.length === this.#slabBytes) {
      this.#free.push(slab.memory);
    }
  }

  /**
   * Counts one more user of `slice` (a buffer {@link take} returned): it then needs one
   * more {@link release} before its memory is used again.
   */
  retain(slice: Uint8Array): void {
    const slab = this.#slabs.get(slice.buffer);
    if (slab !== undefined && slab.live > 0) slab.live++;
  }

  #newSlab(bytes: number): void {
    const old = this.#slab;
    if (old.live === 0 && old !== NO_SLAB && old.memory.length === this.#slabBytes) {
      // Nothing of it in use: start it over rather than take another.
      this.#used = 0;
      if (bytes <= old.memory.length) return;
    }
    const reused = bytes <= this.#slabBytes ? this.#free.pop() : undefined;
    const memory = reused ?? Buffer.allocUnsafeSlow(Math.max(this.#slabBytes, bytes));
    const slab: Slab = { memory, live: 0 };
    this.#slabs.set(memory.buffer, slab);
    this.#slab = slab;
    this.#used = 0;
  }
}
