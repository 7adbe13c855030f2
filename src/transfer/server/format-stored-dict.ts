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

/**
 * The bytes a received dictionary is stored as ([V-DICT]): JSON laid out as
 * `JSON.stringify(value, null, 2)` lays out a plain object (two-space indent, trailing
 * newline), or compact JSON when that would be more than {@link MAX_PRETTY_GROWTH} times
 * its wire size (plus {@link PRETTY_ALLOWANCE_BYTES}). Either way it is the exact
 * dictionary: members in the order written, integers as their digits, floats with `.0`
 * when they have no `.` or exponent, `-0.0`.
 */
export function formatStoredDict(value: DictObject, wireBytes: number): Buffer {
  const limit = wireBytes * MAX_PRETTY_GROWTH + PRETTY_ALLOWANCE_BYTES;
  const lines: string[] = [];
  // Characters of the pretty text so far, without its final newline; the layout stops as
  // soon as it is over the limit.
  let length = -1;
  const pretty = writeDictJsonLines(value, (line) => {
    lines.push(line);
    length += line.length + 1;
    return length <= limit;
  });
  if (pretty) return Buffer.from(`${lines.join("\n")}\n`, "utf8");
  return Buffer.from(`${dictJsonText(value)}\n`, "utf8");
}
