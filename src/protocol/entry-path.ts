import { ErrorCode, ProtocolError } from "../errors.js";
import { MAX_PATH_COMPONENT_BYTES, MAX_TREE_DEPTH, MAX_TREE_PATH_BYTES } from "./constants.js";
import type { ControlObject, ControlValue } from "./control-json.js";

/** [T-PATH] What no component may hold: a separator or NUL. */
const FORBIDDEN_IN_COMPONENT = /[/\u0000]/u;

/**
 * [T-PATH] A tree entry's path: `minComponents` to `maxComponents` (at most
 * {@link MAX_TREE_DEPTH}) components, each checked by {@link checkComponent}, at most
 * {@link MAX_TREE_PATH_BYTES} in all with one byte between each two; its last component
 * is the item's name [T-ENTRY].
 * @returns the path and its length in UTF-8 bytes, separators counted.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function readEntryPath(
  record: ControlObject,
  name: string,
  minComponents: number,
  maxComponents = MAX_TREE_DEPTH,
): { readonly path: string[]; readonly bytes: number } {
  const value = record.get("path");
  if (!Array.isArray(value)) throw malformed('"path" must be an array of strings');
  const components: readonly ControlValue[] = value;
  if (components.length < minComponents || components.length > maxComponents) {
    throw malformed(`"path" must have ${minComponents} to ${maxComponents} components`);
  }
  const path: string[] = [];
  let totalBytes = components.length - 1;
  for (const component of components) {
    if (typeof component !== "string") throw malformed('"path" must be an array of strings');
    totalBytes += checkComponent(component, '"path"');
    path.push(component);
  }
  if (totalBytes > MAX_TREE_PATH_BYTES) {
    throw malformed(`"path" is longer than ${MAX_TREE_PATH_BYTES} UTF-8 bytes`);
  }
  if (path[path.length - 1] !== name)
    throw malformed('"name" must be the last component of "path"');
  return { path, bytes: totalBytes };
}

/**
 * [T-PATH] One component: 1 to {@link MAX_PATH_COMPONENT_BYTES} UTF-8 bytes, neither `.`
 * nor `..`, holding neither `/` nor NUL. `what` names where it was found.
 * @returns its length in UTF-8 bytes.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function checkComponent(component: string, what: string): number {
  const bytes = Buffer.byteLength(component, "utf8");
  if (bytes === 0 || bytes > MAX_PATH_COMPONENT_BYTES) {
    throw malformed(`a ${what} component must be 1 to ${MAX_PATH_COMPONENT_BYTES} UTF-8 bytes`);
  }
  if (component === "." || component === ".." || FORBIDDEN_IN_COMPONENT.test(component)) {
    throw malformed(`a ${what} component must not be "." or ".." nor hold "/" or NUL`);
  }
  return bytes;
}

function malformed(what: string): ProtocolError {
  return new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `malformed message: ${what}`);
}
