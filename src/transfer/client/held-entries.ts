import path from "node:path";
import type { ReceiptBody } from "../../protocol/messages.js";
import { entryKey, MAX_HAVE_KEYS, treeKey } from "../../protocol/tree-messages.js";
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
 *
 * Every HAVE goes out at once, before any entry; the entries are planned as their
 * answers come, in order ({@link TreePlan}), so that the first ones can be sent while the
 * server still answers about the rest.
 */
export function heldEntries(source: HeldSource, tree: PreparedTree): TreePlan {
  return new TreePlan(source, tree);
}

/** The plan of a tree's entries, known entry by entry as the server's answers arrive. */
export class TreePlan {
  readonly #items: readonly (PreparedFile | PreparedDirectory)[];
  readonly #key: string;
  readonly #encrypted: boolean;
  readonly #plans: (EntryPlan | undefined)[];
  /** Resolves once the entries of each HAVE are planned; rejects with the connection's failure. */
  readonly #batches: Promise<void>[] = [];
  /**
   * `changed[k]`: an entry was sent under the directory of path length k whose contents
   * are being planned (entries come depth first, each directory right after its
   * contents [T-ORDER], so at each depth only one directory's contents are under way);
   * that directory's own entry then goes too. Read and cleared when it is planned.
   */
  readonly #changed: boolean[] = [];
  #named = false;

  constructor(source: HeldSource, tree: PreparedTree) {
    this.#items = tree.items;
    this.#key = treeKey(path.resolve(tree.root));
    this.#encrypted = source.session.encrypted;
    this.#plans = new Array<EntryPlan | undefined>(tree.items.length);
    let planned: Promise<void> = Promise.resolve();
    for (let start = 0; start < tree.items.length; start += MAX_HAVE_KEYS) {
      const end = Math.min(start + MAX_HAVE_KEYS, tree.items.length);
      const keys: string[] = [];
      for (let index = start; index < end; index++) keys.push(this.#entryKey(index));
      const answers = source.held(this.#key, keys);
      // In order: an entry's plan depends on the entries before it.
      planned = Promise.all([answers, planned]).then(([held]) => {
        for (let index = start; index < end; index++) {
          this.#plans[index] = this.#plan(index, held[index - start] ?? null);
        }
      });
      // A failure reaches whoever waits for an entry (not unhandled meanwhile).
      planned.catch(() => undefined);
      this.#batches.push(planned);
    }
  }

  /** The tree's number of entries. */
  get length(): number {
    return this.#items.length;
  }

  /** The plan of entry `index`, once its answer came; undefined before. */
  planNow(index: number): EntryPlan | undefined {
    return this.#plans[index];
  }

  /**
   * The plan of entry `index`, once its answer comes.
   * @throws {GbError} what the connection failed with before the answer came.
   */
  async plan(index: number): Promise<EntryPlan> {
    await this.#batches[Math.floor(index / MAX_HAVE_KEYS)];
    const plan = this.#plans[index];
    if (plan === undefined) throw new RangeError(`no entry ${index} in the tree`);
    return plan;
  }

  /** Every entry's plan, once every answer came. @throws {GbError} as {@link plan}. */
  async all(): Promise<EntryPlan[]> {
    await Promise.all(this.#batches);
    return this.#plans.map((plan, index) => plan ?? { send: this.#items[index] as PreparedFile });
  }

  #entryKey(index: number): string {
    const item = this.#items[index];
    // Every entry of a walked tree has its `entry`; one without would be sent as it is.
    const entry = item?.meta.entry ?? { path: [], mtimeMs: 0 };
    return entryKey(entry.path, item?.meta.size ?? 0, entry.mtimeMs);
  }

  #plan(index: number, receipt: ReceiptBody | null): EntryPlan {
    const item = this.#items[index] as PreparedFile | PreparedDirectory;
    const depth = item.meta.entry?.path.length ?? 0;
    let dirty = false;
    if (item.meta.kind === "dir") {
      dirty = this.#changed[depth] === true;
      this.#changed[depth] = false;
    }
    if (receipt !== null && !dirty && matches(item, receipt)) {
      return { held: heldItem(item, receipt, this.#encrypted) };
    }
    for (let parent = 1; parent < depth; parent++) this.#changed[parent] = true;
    if (this.#named) return { send: item };
    this.#named = true;
    return { send: withTreeKey(item, this.#key) };
  }
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
