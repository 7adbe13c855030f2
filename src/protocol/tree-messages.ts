import { sha256Hex } from "../crypto/sha256-hex.js";
import { ErrorCode, ProtocolError } from "../errors.js";
import { MAX_HELD_FRAME_BYTES } from "./constants.js";
import type { ControlValue } from "./control-json.js";
import { asObject, encodeJsonPayload, parseJsonPayload, readHexText } from "./json-fields.js";
import { readReceiptBody, receiptToJson, type ReceiptBody } from "./messages.js";
import { RESUME_HASH_BYTES } from "./resume-messages.js";

/** Most entry keys in one HAVE, and so answers in one HELD [M-HAVE]. */
export const MAX_HAVE_KEYS = 200;

/** What gb-transfer hashes to name a tree by its root [RES-TREE]. */
const TREE_KEY_LABEL = "gb-transfer/2 tree key";

/** What both sides hash to name an entry of a tree [RES-HAVE]. */
const ENTRY_KEY_LABEL = "gb-transfer/2 entry";

/** CLIENT → SERVER: which of these entries of a tree the server holds. [M-HAVE] */
export interface HaveMessage {
  /** The tree key, lower-case hex. */
  readonly tree: string;
  /** Entry keys, lower-case hex, 1 .. {@link MAX_HAVE_KEYS}. */
  readonly keys: readonly string[];
}

/** SERVER → CLIENT: per key of the HAVE, the stored entry's receipt or null. [M-HELD] */
export interface HeldMessage {
  readonly tree: string;
  readonly held: readonly (ReceiptBody | null)[];
  /**
   * [M-HELD] The server holds no entry of the tree: every answer is null, and a client may
   * send the tree's other entries without asking about them. Absent otherwise.
   */
  readonly nothing?: true;
}

/**
 * [RES-TREE] gb-transfer's tree key: the SHA-256 of the UTF-8 JSON text
 * `["gb-transfer/2 tree key", root]`, `root` the tree's absolute path.
 */
export function treeKey(absoluteRoot: string): string {
  return sha256Hex(JSON.stringify([TREE_KEY_LABEL, absoluteRoot]));
}

/**
 * [RES-HAVE] An entry's key, from what its ITEM says: the SHA-256 of the UTF-8 JSON text
 * `["gb-transfer/2 entry", path, size, mtimeMs]`.
 */
export function entryKey(entryPath: readonly string[], size: number, mtimeMs: number): string {
  return sha256Hex(JSON.stringify([ENTRY_KEY_LABEL, entryPath, size, mtimeMs]));
}

/** The JSON text of a HAVE payload [M-HAVE]. */
export function encodeHave(have: HaveMessage): Buffer {
  return encodeJsonPayload({ tree: have.tree, keys: have.keys });
}

/**
 * [M-HAVE] 1 to {@link MAX_HAVE_KEYS} keys, each hex(32).
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function decodeHave(payload: Uint8Array): HaveMessage {
  const record = parseJsonPayload(payload, "HAVE");
  const tree = readHexText(record.get("tree"), "tree", RESUME_HASH_BYTES);
  const keys = record.get("keys");
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_HAVE_KEYS) {
    throw malformed(`"keys" must be an array of 1 to ${MAX_HAVE_KEYS} keys`);
  }
  const list: readonly ControlValue[] = keys;
  return { tree, keys: list.map((key) => readHexValue(key)) };
}

/**
 * The JSON text of a HELD payload [M-HELD]: a receipt that would take the payload over
 * {@link MAX_HELD_FRAME_BYTES} is answered null instead (its entry is sent again).
 */
export function encodeHeld(held: HeldMessage): Buffer {
  const head = `{"tree":${JSON.stringify(held.tree)},"held":[`;
  let bytes = Buffer.byteLength(head) + "]}".length;
  const parts = held.held.map((receipt, index) => {
    const separator = index === 0 ? 0 : 1;
    const text = receipt === null ? "null" : JSON.stringify(receiptToJson(receipt));
    const length = Buffer.byteLength(text) + separator;
    // Room is kept for a "null" for every answer still to come.
    const rest = (held.held.length - index - 1) * "null,".length;
    if (text !== "null" && bytes + length + rest > MAX_HELD_FRAME_BYTES) {
      bytes += "null".length + separator;
      return "null";
    }
    bytes += length;
    return text;
  });
  const nothing = held.nothing === true ? ',"nothing":true' : "";
  return Buffer.from(`${head}${parts.join(",")}]${nothing}}`, "utf8");
}

/**
 * [M-HELD] `held` has one answer per key asked: a receipt body [M-RECEIPT] or null.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function decodeHeld(payload: Uint8Array): HeldMessage {
  const record = parseJsonPayload(payload, "HELD", MAX_HELD_FRAME_BYTES);
  const tree = readHexText(record.get("tree"), "tree", RESUME_HASH_BYTES);
  const held = record.get("held");
  if (!Array.isArray(held) || held.length === 0 || held.length > MAX_HAVE_KEYS) {
    throw malformed(`"held" must be an array of 1 to ${MAX_HAVE_KEYS} answers`);
  }
  const list: readonly ControlValue[] = held;
  const answers = list.map((answer) =>
    answer === null ? null : readReceiptBody(asObject(answer, 'an answer of "held"')),
  );
  if (!record.has("nothing")) return { tree, held: answers };
  // [M-HELD] true or absent; true only with every answer null.
  if (record.get("nothing") !== true || answers.some((answer) => answer !== null)) {
    throw malformed('"nothing" must be true, and only when every answer is null');
  }
  return { tree, held: answers, nothing: true };
}

function readHexValue(value: ControlValue): string {
  return readHexText(value, "key", RESUME_HASH_BYTES);
}

function malformed(what: string): ProtocolError {
  return new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `malformed message: ${what}`);
}
