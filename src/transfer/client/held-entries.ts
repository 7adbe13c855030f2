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
  /** [M-HELD] True once the server said it holds nothing of `tree`. */
  holdsNothing(tree: string): boolean;
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
 * Every HAVE about the entries found goes out at once, before any of them; the entries are
 * planned as their answers come, in order ({@link TreePlan}), so that the first ones can
 * be sent while the server still answers about the rest. A tree still being walked is
 * asked about as it grows ({@link TreePlan.grow}).
 */
export function heldEntries(source: HeldSource, tree: PreparedTree): TreePlan {
  return new TreePlan(source, tree);
}

/**
 * The plan of a tree's entries, known entry by entry as the server's answers arrive. A
 * tree still being walked is asked about as its entries are found ({@link grow}).
 */
export class TreePlan {
  readonly #tree: PreparedTree;
  readonly #source: HeldSource;
  readonly #key: string;
  readonly #encrypted: boolean;
  readonly #plans: (EntryPlan | undefined)[] = [];
  /** Resolves once the entries of each HAVE are planned; rejects with the connection's failure. */
  readonly #batches: Promise<void>[] = [];
  /** The first entry each HAVE asked about, in order. */
  readonly #starts: number[] = [];
  /** Entries asked about so far: the tree's first ones. */
  #asked = 0;
  /** Resolves once every HAVE asked so far is planned. */
  #planned: Promise<void> = Promise.resolve();
  /**
   * `changed[k]`: an entry was sent under the directory of path length k whose contents
   * are being planned (entries come depth first, each directory right after its
   * contents [T-ORDER], so at each depth only one directory's contents are under way);
   * that directory's own entry then goes too. Read and cleared when it is planned.
   */
  readonly #changed: boolean[] = [];
  #named = false;

  constructor(source: HeldSource, tree: PreparedTree) {
    this.#tree = tree;
    this.#source = source;
    this.#key = treeKey(path.resolve(tree.root));
    this.#encrypted = source.session.encrypted;
    this.grow();
  }

  /**
   * Asks about the entries the tree has found since the last call (all of them, the
   * first time), in HAVE frames of up to {@link MAX_HAVE_KEYS} keys.
   */
  grow(): void {
    const items = this.#tree.items;
    while (this.#asked < items.length) {
      const start = this.#asked;
      const end = Math.min(start + MAX_HAVE_KEYS, items.length);
      let answers: HeldReceipts | Promise<HeldReceipts>;
      if (this.#source.holdsNothing(this.#key)) {
        // [M-HELD] Nothing of the tree is held: its other entries are sent, unasked.
        answers = new Array<null>(end - start).fill(null);
      } else {
        const keys: string[] = [];
        for (let index = start; index < end; index++) keys.push(this.#entryKey(index));
        answers = this.#source.held(this.#key, keys);
      }
      // In order: an entry's plan depends on the entries before it.
      const planned = Promise.all([answers, this.#planned]).then(([held]) => {
        for (let index = start; index < end; index++) {
          this.#plans[index] = this.#plan(index, held[index - start] ?? null);
        }
      });
      // A failure reaches whoever waits for an entry (not unhandled meanwhile).
      planned.catch(() => undefined);
      this.#planned = planned;
      this.#starts.push(start);
      this.#batches.push(planned);
      this.#asked = end;
    }
  }

  /** The tree's number of entries (so far, for a tree still being walked). */
  get length(): number {
    return this.#tree.items.length;
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
    if (index < this.#asked) await this.#batches[this.#batchOf(index)];
    const plan = this.#plans[index];
    if (plan === undefined) throw new RangeError(`no entry ${index} in the tree`);
    return plan;
  }

  /** Every entry's plan, once every answer came. @throws {GbError} as {@link plan}. */
  async all(): Promise<EntryPlan[]> {
    await Promise.all(this.#batches);
    return this.#plans.map(
      (plan, index) => plan ?? { send: this.#tree.items[index] as PreparedFile },
    );
  }

  /** The HAVE that asked about entry `index` (one that was asked about). */
  #batchOf(index: number): number {
    const starts = this.#starts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((starts[middle] as number) <= index) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  #entryKey(index: number): string {
    const item = this.#tree.items[index];
    // Every entry of a walked tree has its `entry`; one without would be sent as it is.
    const entry = item?.meta.entry ?? { path: [], mtimeMs: 0 };
    return entryKey(entry.path, item?.meta.size ?? 0, entry.mtimeMs);
  }

  #plan(index: number, receipt: ReceiptBody | null): EntryPlan {
    const item = this.#tree.items[index] as PreparedFile | PreparedDirectory;
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
