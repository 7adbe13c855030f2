import { Readable } from "node:stream";
import { inputFileError } from "../inputs/input-file-error.js";
import { PooledFileReader } from "./pooled-file-reader.js";

/** Where a streamed item's bytes come from. */
export type ItemSource = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Opens the file of an item whose turn to go out has come. Opening it before its ITEM
 * frame is written means a file that vanished since it was prepared fails on its own,
 * before anything of it is sent, instead of failing the connection mid-item.
 * @throws {InputFileError} INPUT_UNREADABLE when it cannot be opened.
 */
export async function openFileSource(filePath: string): Promise<PooledFileReader> {
  const reader = new PooledFileReader(filePath);
  try {
    await reader.open();
  } catch (error) {
    throw inputFileError(filePath, "file", error);
  }
  return reader;
}

/**
 * Stops a source: a stream is destroyed, a pooled file reader closed (its file with it).
 * Any other iterable is left to its owner; {@link readUntilAborted} has already asked it
 * to stop when its iteration was cut short.
 */
export function closeSource(source: ItemSource): void {
  if (source instanceof Readable) source.destroy();
  else if (source instanceof PooledFileReader) source.close();
}

/**
 * Iterates `source` until it ends or `signal` aborts. An abort ends the iteration at
 * once, even while a read is pending on a stalled source (stdin, `tail -f`); the
 * pending read's outcome is then ignored, and the source is asked to stop.
 */
export async function* readUntilAborted(
  source: ItemSource,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (!(Symbol.asyncIterator in source)) {
    for (const piece of source) {
      if (signal.aborted) return;
      yield piece;
    }
    return;
  }
  const iterator = source[Symbol.asyncIterator]();
  /** True once the iterator finished by itself (ended or threw). */
  let finished = false;
  try {
    for (;;) {
      if (signal.aborted) return;
      const next = iterator.next();
      const result = await new Promise<IteratorResult<Uint8Array> | undefined>(
        (resolve, reject) => {
          const onAbort = (): void => {
            resolve(undefined);
          };
          signal.addEventListener("abort", onAbort, { once: true });
          next.then(
            (value) => {
              signal.removeEventListener("abort", onAbort);
              resolve(value);
            },
            (error: unknown) => {
              signal.removeEventListener("abort", onAbort);
              finished = true;
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          );
        },
      );
      if (result === undefined) {
        // Aborted: the pending read may still fail (we destroy the source); that is ours.
        next.catch(() => undefined);
        return;
      }
      if (result.done === true) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (!finished && iterator.return !== undefined) {
      // Not awaited: on a stalled source it would wait for the pending read.
      Promise.resolve(iterator.return()).catch(() => undefined);
    }
  }
}
