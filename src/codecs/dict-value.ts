/**
 * The exact dictionary: what every codec reads and writes, and what a server hands to its
 * listeners. It keeps what a plain JavaScript object cannot: members in the order they were
 * written (an object moves keys such as "10" and "2" to the front), integers of any size
 * (a number rounds past 2^53), and whether a number was written as an integer or a float
 * [C-MODEL].
 */

/**
 * Any value of a dictionary:
 * - `null`, `boolean`, `string`;
 * - `bigint`: an INTEGER, of any size ([C-INT]);
 * - `number`: a FLOAT, a finite IEEE 754 double, negative zero included ([C-FLOAT]);
 * - an array of values;
 * - a {@link DictObject}.
 */
export type DictValue = null | boolean | string | bigint | number | DictValue[] | DictObject;

/**
 * An object: its members in the order written ([C-ORDER]), keys unique ([C-DUP]). A `Map`
 * keeps insertion order for every key, `"10"` and `"__proto__"` included.
 */
export type DictObject = Map<string, DictValue>;

/** True when `value` is a {@link DictObject} (any `Map`; its contents are not checked here). */
export function isDictObject(value: unknown): value is DictObject {
  return value instanceof Map;
}
