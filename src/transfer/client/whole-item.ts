import type { ItemMeta } from "../../protocol/messages.js";
import type { ItemSource } from "./item-sources.js";

/** A small file's bytes, read whole when its turn comes. */
export interface FileRead {
  /** @throws {InputFileError} INPUT_UNREADABLE */
  readonly read: () => Buffer;
}

/**
 * An item sent in one go: a dictionary, a directory's no bytes, or a small file read
 * when its turn comes.
 */
export interface WholeItem {
  readonly meta: ItemMeta;
  readonly payload: Uint8Array | string | FileRead;
}

/**
 * An item's bytes, now: a small file is read.
 * @throws {InputFileError} what reading the file threw.
 */
export function payloadNow(payload: WholeItem["payload"]): Uint8Array | string {
  if (typeof payload === "string" || payload instanceof Uint8Array) return payload;
  return payload.read();
}

/** A directory's data: none [T-ENTRY]. */
export const NO_DATA = new Uint8Array(0);

/** A streamed item once its turn came: its metadata and the source of its bytes. */
export interface StreamedItem {
  readonly meta: ItemMeta;
  readonly source: ItemSource;
}
