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
 * planned. A tree is asked about when the plan reaches it, and then as it is walked
 * ({@link grow}); the answers come in order, and the first entries can go while the
 * server still answers about the rest.
 */
export class SendPlan {
  readonly #source: HeldSource;
  readonly #plan: readonly PlannedItem[];
  readonly #resume: boolean;
  readonly #trees = new Map<TreeReport, TreePlan>();
  /**
   * The same tree named twice goes twice, the second time whole and into a new top
   * folder: only its first time resumes (the server answers both from one journal).
   */
  readonly #asked = new Set<string>();
  /** Trees reached that go whole, unasked. */
  readonly #whole = new Set<TreeReport>();

  /** @param resume false: nothing is asked, everything is sent. */
  constructor(source: HeldSource, plan: readonly PlannedItem[], resume: boolean) {
    this.#source = source;
    this.#plan = plan;
    this.#resume = resume;
  }

  /**
   * The plan reached the entries of `report`'s tree found so far: asks about those not
   * asked about yet (all of them, the first time). Call it before any of them is planned.
   */
  grow(report: TreeReport): void {
    if (!this.#resume || this.#whole.has(report)) return;
    const tree = this.#trees.get(report);
    if (tree !== undefined) {
      tree.grow();
      return;
    }
    const key = treeKey(path.resolve(report.tree.root));
    if (this.#asked.has(key)) {
      this.#whole.add(report);
      return;
    }
    this.#asked.add(key);
    this.#trees.set(report, heldEntries(this.#source, report.tree));
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

/** What the user named, in order: an item, or a tree, its entries planned as it is walked. */
export type PlanInput = { readonly planned: PlannedItem } | { readonly report: TreeReport };

/** What {@link PlanFeed.run} tells as it goes. */
export interface PlanFeedEvents {
  /**
   * Items were added to the plan: the entries `report`'s tree found so far (or a tree
   * found entries it does not send), or (`report` undefined) an item of its own.
   */
  readonly grew: (report: TreeReport | undefined) => void;
  /**
   * A tree's walk stopped at `error` (a limit of [T-PATH] or [T-LIMIT]): its entries found
   * before it are planned; nothing after it is (`rest`: the inputs named after the tree,
   * not sent). The plan is complete then.
   */
  readonly walkFailed: (error: unknown, rest: readonly PlanInput[]) => void;
}

/**
 * [T-WALK] The items to send, in order, as they become known: each input the user named,
 * a tree's entries as its walk finds them, so that the first entries go while the rest
 * of the tree is still being read.
 */
export class PlanFeed {
  /** The items known so far, in send order (grows until {@link done}). */
  readonly items: PlannedItem[] = [];
  readonly #inputs: readonly PlanInput[];
  #done = false;
  #stopped = false;
  /** The input being added. */
  #position = 0;
  #waiting: (() => void)[] = [];

  constructor(inputs: readonly PlanInput[]) {
    this.#inputs = inputs;
  }

  /** True once every item is known. */
  get done(): boolean {
    return this.#done;
  }

  /** Resolves once more items are known, or all are. Never rejects. */
  more(): Promise<void> {
    if (this.#done) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
    });
  }

  /**
   * Adds nothing more: {@link run} ends at its next step.
   * @returns the inputs it had not reached yet (none once it ended by itself).
   */
  stop(): readonly PlanInput[] {
    const unreached = this.#done ? [] : this.#inputs.slice(this.#position + 1);
    this.#stopped = true;
    this.#end();
    return unreached;
  }

  /** Adds every input's items to the plan, a tree's as its walk goes. Never rejects. */
  async run(events: PlanFeedEvents): Promise<void> {
    for (const [position, input] of this.#inputs.entries()) {
      if (this.#stopped) return;
      this.#position = position;
      if ("planned" in input) {
        this.items.push(input.planned);
        this.#grew(events, undefined);
        continue;
      }
      const { report } = input;
      const tree = report.tree;
      let added = 0;
      /** Plans the entries the tree found since. */
      const addFound = (): void => {
        for (; added < tree.items.length; added++) {
          const item = tree.items[added] as PlannedItem["item"];
          this.items.push({ label: report.label, item, tree: { report, index: added } });
        }
        this.#grew(events, report);
      };
      for (;;) {
        // `done` first: it brings the last entries into `items`.
        const walked = tree.done;
        addFound();
        if (walked) break;
        try {
          await tree.more();
        } catch (error) {
          if (this.#stoppedNow()) return;
          // What was found before the limit goes; nothing after it.
          addFound();
          events.walkFailed(error, this.#inputs.slice(position + 1));
          this.#end();
          return;
        }
        if (this.#stoppedNow()) return;
      }
    }
    this.#end();
  }

  /** Whether {@link stop} was called (meanwhile: read anew after each wait). */
  #stoppedNow(): boolean {
    return this.#stopped;
  }

  #grew(events: PlanFeedEvents, report: TreeReport | undefined): void {
    events.grew(report);
    this.#wake();
  }

  #end(): void {
    this.#done = true;
    this.#wake();
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
  }
}
