import type { JsonObject, JsonValue } from "../codecs/json-value.js";

/**
 * Pretty printing may make a stored dictionary at most this many times its wire size
 * (plus {@link PRETTY_ALLOWANCE_BYTES}); past that it is stored compact. Indentation
 * costs up to two bytes per level per value, so a deeply nested dictionary of tiny values
 * could otherwise grow a hundredfold on the server's disk.
 */
const MAX_PRETTY_GROWTH = 8;
const PRETTY_ALLOWANCE_BYTES = 1024 * 1024;

/**
 * The bytes a received dictionary is stored as: pretty-printed JSON (two-space indent,
 * trailing newline), or compact JSON when pretty printing would grow it beyond
 * {@link MAX_PRETTY_GROWTH} times its wire size.
 */
export function formatStoredDict(value: JsonObject, wireBytes: number): Buffer {
  const limit = wireBytes * MAX_PRETTY_GROWTH + PRETTY_ALLOWANCE_BYTES;
  const compact = JSON.stringify(value);
  if (compact.length + indentationCost(value, 1, limit - compact.length) <= limit) {
    return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
  }
  return Buffer.from(`${compact}\n`, "utf8");
}

/**
 * Characters pretty printing adds (newlines, indentation, ": " after keys), counted only
 * until `budget` is exceeded so the walk stays cheap.
 */
function indentationCost(value: JsonValue, depth: number, budget: number): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  const perChild = 2 * depth + 1 + (Array.isArray(value) ? 0 : 1);
  let cost = children.length === 0 ? 0 : 2 * (depth - 1) + 1;
  for (const child of children) {
    cost += perChild + indentationCost(child, depth + 1, budget - cost);
    if (cost > budget) return cost;
  }
  return cost;
}
