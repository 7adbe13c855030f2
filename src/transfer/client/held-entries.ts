import path from "node:path";
import type { ReceiptBody } from "../../protocol/messages.js";
import { entryKey, treeKey } from "../../protocol/tree-messages.js";
import type { SentItem } from "./client-options.js";
import type { HeldReceipts } from "./held-answers.js";
import type { PreparedDirectory, PreparedFile, PreparedTree } from "./prepared-item.js";

/** An entry of a tree: to send (the first of them naming the tree), or held already. */
export type EntryPlan =
  { readonly send: PreparedFile | PreparedDirectory } | { readonly held: SentItem };

/** What {@link heldEntries} needs of a connection. */
export interface HeldSource {
  held(tree: string, keys: readonly string[]): Promise<HeldReceipts>;
  readonly session: { readonly encrypted: boolean };
}

/**
 * [RES-TREE] [RES-HAVE] Asks the server which entries of `tree` it stored in a run of the
 * same tree cut off before, and plans the tree: the entries held are reported with the
 * receipt the server kept and not sent; the first entry sent carries the tree key, so
 * that the server goes on in the same top folder. A directory is sent even when held if
 * anything under it is sent, so that its time is set after what changed it [T-MTIME]. A
 * held receipt that does not match the entry (kind, size) is not trusted: it is sent.
 * @throws {GbError} what the connection fails with.
 */
export async function heldEntries(source: HeldSource, tree: PreparedTree): Promise<EntryPlan[]> {
  const key = treeKey(path.resolve(tree.root));
  // Every entry of a walked tree has its `entry`; one without would be sent as it is.
  const entries = tree.items.map((item) => item.meta.entry ?? { path: [], mtimeMs: 0 });
  const entryKeys = tree.items.map((item, index) => {
    const entry = entries[index] ?? { path: [], mtimeMs: 0 };
    return entryKey(entry.path, item.meta.size, entry.mtimeMs);
  });
  const held = entryKeys.length === 0 ? [] : await source.held(key, entryKeys);
  // Parents of an entry sent, as JSON text of their path: their own entries go too.
  const changed = new Set<string>();
  let named = false;
  return tree.items.map((item, index): EntryPlan => {
    const entryPath = entries[index]?.path ?? [];
    const receipt = held[index] ?? null;
    const dirty = item.meta.kind === "dir" && changed.has(JSON.stringify(entryPath));
    if (receipt !== null && !dirty && matches(item, receipt)) {
      return { held: heldItem(item, receipt, source.session.encrypted) };
    }
    for (let depth = 1; depth < entryPath.length; depth++) {
      changed.add(JSON.stringify(entryPath.slice(0, depth)));
    }
    if (named) return { send: item };
    named = true;
    return { send: withTreeKey(item, key) };
  });
}

function matches(item: PreparedFile | PreparedDirectory, receipt: ReceiptBody): boolean {
  return receipt.kind === item.meta.kind && receipt.bytes === item.meta.size;
}

function heldItem(
  item: PreparedFile | PreparedDirectory,
  receipt: ReceiptBody,
  encrypted: boolean,
): SentItem {
  const { kind, bytes, sha256 } = receipt;
  return { id: 0, kind, name: item.meta.name, encrypted, bytes, sha256, receipt, held: true };
}

function withTreeKey(
  item: PreparedFile | PreparedDirectory,
  tree: string,
): PreparedFile | PreparedDirectory {
  if (item.origin === "directory") {
    return { ...item, meta: { ...item.meta, entry: { ...item.meta.entry, tree } } };
  }
  const entry = item.meta.entry;
  if (entry === undefined) return item;
  return { ...item, meta: { ...item.meta, entry: { ...entry, tree } } };
}
