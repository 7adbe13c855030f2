import { dictJsonText, writeDictJsonLines } from "../../codecs/dict-json-text.js";
import type { DictObject } from "../../codecs/dict-value.js";

/**
 * Pretty printing may make a stored dictionary at most this many times its wire size
 * (plus {@link PRETTY_ALLOWANCE_BYTES}); past that it is stored compact. Indentation
 * costs up to two bytes per level per value, so a deeply nested dictionary of tiny values
 * could otherwise grow a hundredfold on the server's disk.
 */
const MAX_PRETTY_GROWTH = 8;
const PRETTY_ALLOWANCE_BYTES = 1024 * 1024;

/** Characters of text gathered before they are handed to the sink in one piece. */
const SINK_BATCH_CHARS = 1024 * 1024;

/** Where the stored text goes, in pieces, as it is laid out. */
export interface StoredDictSink {
  /** The next piece of the text. */
  write(text: string): void;
  /** Forget everything written so far: the text starts again (compact this time). */
  restart(): void;
}

/**
 * Lays out the text a received dictionary is stored as ([V-DICT]) into `sink`, in pieces
 * of about a MiB, never as one string: JSON laid out as `JSON.stringify(value, null, 2)`
 * lays out a plain object (two-space indent, trailing newline), or, once that passes
 * {@link MAX_PRETTY_GROWTH} times its wire size (plus {@link PRETTY_ALLOWANCE_BYTES}), the
 * sink is restarted and gets compact JSON. Either way it is the exact dictionary: members
 * in the order written, integers as their digits, floats with `.0` when they have no `.`
 * or exponent, `-0.0`.
 */
export function renderStoredDict(value: DictObject, wireBytes: number, sink: StoredDictSink): void {
  const limit = wireBytes * MAX_PRETTY_GROWTH + PRETTY_ALLOWANCE_BYTES;
  let batch: string[] = [];
  let batchChars = 0;
  // Characters of the pretty text so far, without its final newline; the layout stops as
  // soon as it is over the limit.
  let length = -1;
  const pretty = writeDictJsonLines(value, (line) => {
    length += line.length + 1;
    if (length > limit) return false;
    batch.push(line, "\n");
    batchChars += line.length + 1;
    if (batchChars >= SINK_BATCH_CHARS) {
      sink.write(batch.join(""));
      batch = [];
      batchChars = 0;
    }
    return true;
  });
  if (pretty) {
    if (batch.length > 0) sink.write(batch.join(""));
    return;
  }
  batch = [];
  sink.restart();
  sink.write(`${dictJsonText(value)}\n`);
}

/** {@link renderStoredDict} into one buffer: for a small dictionary. */
export function formatStoredDict(value: DictObject, wireBytes: number): Buffer {
  let pieces: string[] = [];
  renderStoredDict(value, wireBytes, {
    write: (text) => pieces.push(text),
    restart: () => {
      pieces = [];
    },
  });
  return Buffer.from(pieces.join(""), "utf8");
}
