import type { BatchHeader, ItemHeader } from "../../protocol/messages.js";
import { InboundBatch } from "./inbound-batch.js";
import { InboundItem } from "./inbound-item.js";
import type { PendingFile } from "./item-store.js";
import { ResumeOffer } from "./resume-offer.js";
import { safeName } from "./safe-name.js";
import type { SessionContext } from "./session-context.js";
import { keepSmallFileInMemory } from "./small-file-writer.js";
import { openEntry, type FileOpener, type TreePlacement } from "./tree-placement.js";

/** What admitting an item needs of its session. */
export interface AdmissionChannel {
  readonly context: SessionContext;
  /** Where the entries of the connection's trees go [T-ORDER]. */
  readonly tree: TreePlacement;
  /** Sends an OFFER [RES-OFFER]. */
  readonly offer: (payload: Buffer) => void;
  /** Ends the connection at once (a newer connection took its resume key over). */
  readonly destroy: () => void;
}

/** An item admitted: it, its OFFER if it asks to resume, and the opening of its file. */
export interface AdmittedItem {
  readonly item: InboundItem | InboundBatch;
  readonly offer: ResumeOffer | undefined;
  /**
   * Resolves once the item has the file its data goes to (when it needs one), with the
   * file's removal (`discarded`) when the item ended meanwhile. Rejects when it cannot be
   * made: the item fails.
   */
  readonly opening: Promise<{ readonly discarded?: Promise<void> | undefined }> | undefined;
}

/**
 * Admits the item an ITEM announced, whose id the session checked: its place in the
 * tree, decided now, in item order [T-ORDER]; the item, held in memory when it is a small
 * file [V-GROUP]; its OFFER when it asks to resume [RES-OFFER]; and the file its data is
 * written to, made as [T-PLACE] says for an entry of a tree, under its safe name
 * otherwise [V-NAME]. A batch [T-BATCH] is admitted as its files are.
 *
 * @returns the item admitted, or why it was refused (what {@link InboundItem.admit}
 *   throws: BUSY, DICT_TOO_LARGE), which fails the item alone.
 * @throws {ProtocolError} MALFORMED_MESSAGE when the entry breaks [T-ORDER] or
 *   [T-LIMIT]: the connection ends.
 */
export function admitItem(
  header: ItemHeader | BatchHeader,
  channel: AdmissionChannel,
): AdmittedItem | { readonly refused: unknown } {
  const { context, tree } = channel;
  const meta = header.meta;
  if (meta.kind === "files") {
    const first = meta.files[0]?.name ?? meta.name;
    const order = tree.order("file", [...meta.dir, first], meta.tree);
    tree.more(meta.files.length - 1);
    const batch = InboundBatch.admit({ id: header.id, meta }, context, context.smallFiles);
    const placing = batch.place(order, tree, context.store);
    return { item: batch, offer: undefined, opening: placing };
  }
  const order =
    meta.kind === "dict" || meta.entry === undefined
      ? undefined
      : tree.order(meta.kind, meta.entry.path, meta.entry.tree);
  let item: InboundItem;
  try {
    item = InboundItem.admit({ id: header.id, meta }, context);
  } catch (error) {
    return { refused: error };
  }
  const offer = ResumeOffer.of(item, context, channel.offer, channel.destroy);
  if (offer === undefined) keepSmallFileInMemory(item, context.smallFiles);
  const opener: FileOpener | null = offer ?? context.store;
  const opening: Promise<PendingFile | undefined> | undefined =
    order !== undefined
      ? openEntry(item, order, tree, opener)
      : meta.kind === "file" && opener !== null && !item.holdsFile
        ? opener.begin(safeName(meta.name, "file"))
        : undefined;
  return {
    item,
    offer,
    // An item that ended meanwhile removes the file at once.
    opening: opening?.then((file) => ({
      discarded: file === undefined ? undefined : item.attachFile(file),
    })),
  };
}
