import { Readable } from "node:stream";
import { untilAborted } from "../../until-aborted.js";
import { inputFileError } from "../inputs/input-file-error.js";
import { FILE_READ_BYTES, PooledFileReader } from "./pooled-file-reader.js";
import type { PreparedFile } from "./prepared-item.js";
import type { SlabReader } from "./slab-reader.js";
import type { FileRead, StreamedItem } from "./whole-item.js";

/** Files up to this size are read whole when their turn comes, into reused memory. */
const SMALL_FILE_BYTES = 64 * 1024;

/** The smallest read buffer of a file read in pieces: a page. */
const MIN_READ_BYTES = 4096;
/** Read buffers of a file smaller than one read. */
const SMALL_FILE_READ_BUFFERS = 2;

/**
 * A small file's bytes (a tree holds thousands), read whole when its turn comes: one
 * open, read and close, with no wait, into memory `reader` uses again once they are
 * sent. Undefined for a larger file, which is opened when its turn comes and read in
 * pooled pieces ({@link openFileSource}). A file that cannot be read fails then, with
 * InputFileError INPUT_UNREADABLE.
 */
export function smallFileContent(
  filePath: string,
  size: number,
  reader: SlabReader,
): FileRead | undefined {
  if (size > SMALL_FILE_BYTES) return undefined;
  return {
    read: () => {
      try {
        return reader.read(filePath, size);
      } catch (error) {
        throw inputFileError(filePath, "file", error);
      }
    },
  };
}

/**
 * Opens a prepared file whose turn to go out has come ({@link openFileSource}).
 * @throws {InputFileError} INPUT_UNREADABLE when it cannot be opened.
 */
export async function openFileItem(file: PreparedFile): Promise<StreamedItem> {
  return { meta: file.meta, source: await openFileSource(file.path, file.meta.size) };
}

/** Where a streamed item's bytes come from. */
export type ItemSource = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Opens the file of an item whose turn to go out has come; `size`, when known, sizes its
 * read buffers. Opening it before its ITEM
 * frame is written means a file that vanished since it was prepared fails on its own,
 * before anything of it is sent, instead of failing the connection mid-item.
 * @throws {InputFileError} INPUT_UNREADABLE when it cannot be opened.
 */
export async function openFileSource(filePath: string, size?: number): Promise<PooledFileReader> {
  const reader =
    size === undefined || size >= FILE_READ_BYTES
      ? new PooledFileReader(filePath)
      : // A small file (a tree holds thousands) gets buffers its own size, not MiBs
        // that the garbage collector would have to reclaim file after file: two, one
        // holding its last chunk while the other finds the end.
        new PooledFileReader(filePath, Math.max(size, MIN_READ_BYTES), SMALL_FILE_READ_BUFFERS);
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
      let result: IteratorResult<Uint8Array> | undefined;
      try {
        result = await untilAborted(next, signal, undefined);
      } catch (error) {
        finished = true;
        throw error;
      }
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
