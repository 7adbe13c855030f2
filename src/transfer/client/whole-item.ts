import type { ItemMeta } from "../../protocol/messages.js";
import type { ItemSource } from "./item-sources.js";
import type { AheadRead } from "./read-ahead.js";

/**
 * An item sent in one go: a dictionary, a directory's no bytes, or a small file read
 * ahead (its bytes in memory by its turn, or soon after).
 */
export interface WholeItem {
  readonly meta: ItemMeta;
  readonly payload: Uint8Array | string | AheadRead;
}

/**
 * An item's bytes: at once when they are in memory, or the promise of them while a small
 * file is still being read ahead.
 * @throws what reading the file threw (the promise rejects).
 */
export function payloadNow(payload: WholeItem["payload"]): Uint8Array | string | Promise<Buffer> {
  if (typeof payload === "string" || payload instanceof Uint8Array) return payload;
  return payload.ready() ?? payload.take();
}

/** A directory's data: none [T-ENTRY]. */
export const NO_DATA = new Uint8Array(0);

/** A streamed item once its turn came: its metadata and the source of its bytes. */
export interface StreamedItem {
  readonly meta: ItemMeta;
  readonly source: ItemSource;
}
