import { open, type FileHandle } from "node:fs/promises";

/** Bytes per read: many chunks per read, so the thread pool is asked once per MiB. */
export const FILE_READ_BYTES = 1024 * 1024;
/**
 * Read buffers per file. One is being read into, one is being sent and one may hold a
 * last chunk kept back until the next read shows whether it ends the file: three is the
 * least that never waits; one more lets a read overlap a slow socket.
 */
export const FILE_READ_BUFFERS = 4;

/**
 * Reads a file, front to back, into a small pool of buffers that are used again and
 * again, so that sending a file of any size allocates a few MiB once instead of one new
 * buffer per read (which the garbage collector would free only in batches of tens of
 * MiB, and which the kernel would have to zero page by page).
 *
 * Each piece it yields is a view into one of its buffers. The consumer gives the buffer
 * back with {@link recycle} once nothing refers to the piece any more (its bytes were
 * copied, encrypted, or written to the socket); until then the reader waits rather than
 * overwrite it.
 */
export class PooledFileReader implements AsyncIterable<Uint8Array> {
  readonly #path: string;
  readonly #free: Buffer[] = [];
  readonly #owned = new Map<ArrayBufferLike, Buffer>();
  #waiter: ((buffer: Buffer | undefined) => void) | undefined;
  #closed = false;
  /** The file, opened by {@link open} and not yet taken over by an iteration. */
  #handle: FileHandle | undefined;
  /** Where reading starts, and how many bytes it reads at most. */
  readonly #range: { readonly start: number; readonly length: number };

  /**
   * @param range the part of the file to read: from `start` (default 0), at most
   *   `length` bytes (default: to its end).
   */
  constructor(
    path: string,
    bufferBytes = FILE_READ_BYTES,
    buffers = FILE_READ_BUFFERS,
    range: { readonly start?: number; readonly length?: number } = {},
  ) {
    this.#path = path;
    this.#range = { start: range.start ?? 0, length: range.length ?? Infinity };
    for (let index = 0; index < buffers; index++) {
      // Slow: a buffer of its own (not a slice of a shared pool), so recycle() can find it.
      const buffer = Buffer.allocUnsafeSlow(bufferBytes);
      this.#free.push(buffer);
      this.#owned.set(buffer.buffer, buffer);
    }
  }

  /** Gives back the buffer under `piece`, a view this reader yielded. */
  recycle(piece: Uint8Array): void {
    const buffer = this.#owned.get(piece.buffer);
    if (buffer === undefined) return;
    const waiter = this.#waiter;
    if (waiter === undefined) this.#free.push(buffer);
    else {
      this.#waiter = undefined;
      waiter(buffer);
    }
  }

  /**
   * Opens the file now rather than at the first read, so that a file that cannot be
   * opened is found before its reader is used. Optional: iterating opens it otherwise.
   * @throws what `fs.open` throws (ENOENT, EACCES, ...).
   */
  async open(): Promise<void> {
    this.#handle ??= await open(this.#path, "r");
  }

  /**
   * Stops reading: a read waiting for a free buffer ends the iteration. A file opened
   * by {@link open} that no iteration took over is closed.
   */
  close(): void {
    this.#closed = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(undefined);
    const handle = this.#handle;
    this.#handle = undefined;
    // Nothing to do about a failure to close a file that was only opened.
    handle?.close().catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    const handle = this.#handle ?? (await open(this.#path, "r"));
    this.#handle = undefined;
    let position = this.#range.start;
    let remaining = this.#range.length;
    try {
      while (remaining > 0) {
        const buffer = await this.#takeFree();
        if (buffer === undefined) return;
        const wanted = Math.min(buffer.length, remaining);
        const { bytesRead } = await handle.read(buffer, 0, wanted, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        remaining -= bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  #takeFree(): Promise<Buffer | undefined> | Buffer | undefined {
    if (this.#closed) return undefined;
    const buffer = this.#free.pop();
    if (buffer !== undefined) return buffer;
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }
}
