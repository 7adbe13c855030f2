/** Names the kind of a value for an error message, without running any of its code. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  // "[object Uint8Array]", "[object Map]", ...: names the kind without calling toString.
  if (typeof value === "object") return Object.prototype.toString.call(value);
  return `a ${typeof value}`;
}
