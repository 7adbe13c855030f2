import { closeSync, openSync, readSync } from "node:fs";
import { SlabAllocator } from "../../slab-allocator.js";

/**
 * Reads small files whole, into slices of slabs ({@link SlabAllocator}) used again once
 * what was read from them is sent.
 */
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
      try {
        while (filled < buffer.length) {
          const wanted = buffer.length - filled;
          const read = readSync(fd, buffer, filled, wanted, null);
          filled += read;
          // A regular file reads short only at its end: one call for a file that kept its
          // size, not a second one to find the end.
          if (read === 0 || (read < wanted && filled === size)) break;
        }
      } catch (error) {
        this.#slabs.release(buffer);
        throw error;
      }
      // What the file did not fill stays free for the next one.
      this.#slabs.giveBack(buffer.length - filled);
      return buffer.subarray(0, filled);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Says that nothing refers to `bytes`, which {@link read} returned, any more: its memory
   * holds the files read after. Call it once, when the bytes were sent.
   */
  readonly release = (bytes: Uint8Array): void => {
    this.#slabs.release(bytes);
  };
}
