/**
 * Slabs of this size by default: below the C library's threshold for mapping memory of
 * its own (128 KiB at first), so that a new slab reuses memory freed before instead of
 * faulting in fresh pages (reading a tree of small files into 1 MiB slabs took twice the
 * CPU, most of it the kernel's page faults); and room for a file of 64 KiB read with one
 * byte more, to see that it grew.
 */
export const DEFAULT_SLAB_BYTES = 68 * 1024;

/** Slabs kept for reuse once every slice of them was given back, at most. */
export const DEFAULT_FREE_SLABS = 64;

/** A slab, and the references to each slice of it still in use, by the slice's offset. */
interface Slab {
  readonly memory: Buffer;
  /** References in use, all slices together. */
  live: number;
  readonly references: Map<number, number>;
}

function newSlab(memory: Buffer): Slab {
  return { memory, live: 0, references: new Map() };
}

/**
 * Memory for many small buffers (the files of a tree, a few KiB each): slices of larger
 * slabs. A buffer of its own for each costs more to allocate, and the garbage collector
 * more to track, than what is done with it.
 *
 * A slab whose every slice was {@link release}d is used again for new slices: memory
 * already in use, where a new slab is fresh memory whose every page the kernel must
 * fault in (on some virtual machines a fault costs as much as reading the page's file).
 * A slice never released is simply collected with its slab, once nothing refers to it.
 * References are counted per slice: releasing one more often than it was taken and
 * retained is ignored, never taken from another slice of the same slab.
 */
export class SlabAllocator {
  readonly #slabBytes: number;
  readonly #maxFree: number;
  #slab: Slab = newSlab(Buffer.alloc(0));
  #used = 0;
  /** Where the slice {@link take} returned last starts in the current slab. */
  #lastStart = 0;
  /** The slab of each slab's memory, to find a released slice's. */
  readonly #slabs = new WeakMap<ArrayBufferLike, Slab>();
  readonly #free: Buffer[] = [];

  constructor(slabBytes = DEFAULT_SLAB_BYTES, maxFree = DEFAULT_FREE_SLABS) {
    this.#slabBytes = slabBytes;
    this.#maxFree = maxFree;
  }

  /**
   * A buffer of `bytes` (uninitialised, at least one): a slice of the current slab, or of
   * a new one.
   */
  take(bytes: number): Buffer {
    const size = Math.max(1, bytes);
    if (this.#used + size > this.#slab.memory.length) this.#newSlab(size);
    const slab = this.#slab;
    const slice = slab.memory.subarray(this.#used, this.#used + bytes);
    slab.references.set(this.#used, (slab.references.get(this.#used) ?? 0) + 1);
    slab.live++;
    this.#lastStart = this.#used;
    this.#used += size;
    return slice;
  }

  /**
   * Gives back the last `bytes` of the buffer {@link take} returned last, which the caller
   * did not use, to the next one (never its first byte: each slice keeps its own offset).
   */
  giveBack(bytes: number): void {
    this.#used = Math.max(this.#lastStart + 1, this.#used - bytes);
  }

  /**
   * Counts one more user of `slice` (a buffer {@link take} returned, or a view of it that
   * starts where it does): it then needs one more {@link release} before its memory is
   * used again.
   */
  retain(slice: Uint8Array): void {
    const slab = this.#slabs.get(slice.buffer);
    const count = slab?.references.get(slice.byteOffset) ?? 0;
    if (slab === undefined || count === 0) return;
    slab.references.set(slice.byteOffset, count + 1);
    slab.live++;
  }

  /**
   * Says that one user of `slice` (a buffer {@link take} returned, or a view of it that
   * starts where it does) is done with it: once all of its slab's slices are released,
   * the slab is used again. Call it once per take and retain, when no one will read or
   * write the slice again.
   */
  release(slice: Uint8Array): void {
    const slab = this.#slabs.get(slice.buffer);
    const count = slab?.references.get(slice.byteOffset) ?? 0;
    if (slab === undefined || count === 0) return;
    if (count === 1) slab.references.delete(slice.byteOffset);
    else slab.references.set(slice.byteOffset, count - 1);
    slab.live--;
    if (slab.live > 0) return;
    // The current slab starts over from its beginning; another one is kept for later.
    if (slab === this.#slab) this.#used = this.#lastStart = 0;
    else this.#keep(slab);
  }

  #newSlab(bytes: number): void {
    const old = this.#slab;
    if (old.live === 0) this.#keep(old);
    const reused = bytes <= this.#slabBytes ? this.#free.pop() : undefined;
    const memory = reused ?? Buffer.allocUnsafeSlow(Math.max(this.#slabBytes, bytes));
    const slab = newSlab(memory);
    this.#slabs.set(memory.buffer, slab);
    this.#slab = slab;
    this.#used = this.#lastStart = 0;
  }

  /** Keeps the memory of a slab no slice of which is in use, for new slices. */
  #keep(slab: Slab): void {
    if (this.#free.length < this.#maxFree && slab.memory.length === this.#slabBytes) {
      this.#free.push(slab.memory);
    }
  }
}
