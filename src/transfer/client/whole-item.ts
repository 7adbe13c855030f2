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

/** A directory's data: none [T-ENTRY]. */
export const NO_DATA = new Uint8Array(0);

/** A streamed item once its turn came: its metadata and the source of its bytes. */
export interface StreamedItem {
  readonly meta: ItemMeta;
  readonly source: ItemSource;
}
