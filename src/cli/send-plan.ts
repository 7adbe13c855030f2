import path from "node:path";
import { treeKey } from "../protocol/tree-messages.js";
import type { SentItem } from "../transfer/client.js";
import { heldEntries, type TreePlan } from "../transfer/client/held-entries.js";
import type { PreparedItem } from "../transfer/client/prepared-item.js";
import type { TreeReport } from "./tree-report.js";

/**
 * An item as the user named it (its label), prepared before connecting; an entry of a
 * directory tree names its tree, and its place in it.
 */
export interface PlannedItem {
  readonly label: string;
  readonly item: PreparedItem;
  readonly tree?: { readonly report: TreeReport; readonly index: number };
}

/**
 * What becomes of a planned item: sent (as `send`), held by the server already, or failed
 * with the connection before the server answered about it.
 */
export type ItemFate =
  { readonly send: PreparedItem } | { readonly held: SentItem } | { readonly failed: unknown };

/** What {@link SendPlan} needs of a connection. */
export type HeldSource = Parameters<typeof heldEntries>[0];

/**
 * [RES-TREE] [RES-HAVE] What each planned item becomes. An entry of a tree that resumes
 * is known once the server answered about it ({@link TreePlan}): held entries are
 * reported, not sent, and the first entry sent names the tree; any other item goes as
 * planned. Every question goes out at once; the answers come in order, and the first
 * entries can go while the server still answers about the rest.
 */
export class SendPlan {
  readonly #plan: readonly PlannedItem[];
  readonly #trees = new Map<TreeReport, TreePlan>();

  /** Asks about every tree in `trees` now, unless `resume` is false (then all is sent). */
  constructor(
    source: HeldSource,
    plan: readonly PlannedItem[],
    trees: readonly TreeReport[],
    resume: boolean,
  ) {
    this.#plan = plan;
    if (!resume) return;
    // The same tree named twice goes twice, the second time whole and into a new top
    // folder: only its first time resumes (the server answers both from one journal).
    const asked = new Set<string>();
    for (const report of trees) {
      const key = treeKey(path.resolve(report.tree.root));
      if (asked.has(key)) continue;
      asked.add(key);
      this.#trees.set(report, heldEntries(source, report.tree));
    }
  }

  /** What item `index` becomes, if known yet. */
  fateNow(index: number): ItemFate | undefined {
    const planned = this.#plan[index];
    if (planned === undefined) throw new RangeError(`no item ${index} in the plan`);
    const tree = planned.tree === undefined ? undefined : this.#trees.get(planned.tree.report);
    if (tree === undefined || planned.tree === undefined) return { send: planned.item };
    const entry = tree.planNow(planned.tree.index);
    if (entry === undefined) return undefined;
    return "held" in entry ? entry : { send: entry.send };
  }

  /** What item `index` becomes, once known (never rejects). */
  async fate(index: number): Promise<ItemFate> {
    const planned = this.#plan[index];
    const tree = planned?.tree === undefined ? undefined : this.#trees.get(planned.tree.report);
    try {
      if (tree !== undefined && planned?.tree !== undefined) await tree.plan(planned.tree.index);
    } catch (error) {
      return { failed: error };
    }
    return this.fateNow(index) ?? { failed: new RangeError(`item ${index} has no plan`) };
  }
}
