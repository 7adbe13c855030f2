/**
 * [RES-HAVE] The plan of a tree that resumes, entry by entry as the server's answers come:
 * every question is asked at once, and the first entries are known (and can go) before
 * the server has answered about the rest.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SendPlan, type PlannedItem } from "../../src/cli/send-plan.js";
import { TreeReport } from "../../src/cli/tree-report.js";
import { ErrorCode, NetworkError } from "../../src/errors.js";
import type { ReceiptBody } from "../../src/protocol/messages.js";
import { MAX_HAVE_KEYS } from "../../src/protocol/tree-messages.js";
import { heldEntries } from "../../src/transfer/client/held-entries.js";
import type { HeldReceipts } from "../../src/transfer/client/held-answers.js";
import { prepareTree, type PreparedTree } from "../../src/transfer/client/prepared-item.js";
import { TempDirs } from "../support/temp-dirs.js";

const temp = new TempDirs();
afterEach(async () => {
  await temp.removeAll();
});

/** A tree of `files` files of one byte in one directory: `files + 2` entries. */
async function tree(files: number): Promise<PreparedTree> {
  const root = path.join(await temp.make("gb-plan-"), "t");
  await mkdir(path.join(root, "d"), { recursive: true });
  for (let index = 0; index < files; index++) {
    await writeFile(path.join(root, "d", `f${String(index).padStart(4, "0")}`), "x");
  }
  return prepareTree(root);
}

/** `full` as a walk still under way sees it: the entries in `shown`, which the test grows. */
function walkingTree(full: PreparedTree, shown: PreparedTree["items"][number][]): PreparedTree {
  return {
    origin: "tree",
    root: full.root,
    name: full.name,
    items: shown,
    files: 0,
    directories: 0,
    bytes: 0,
    skipped: [],
    beforeEpoch: [],
    done: false,
    more: () => Promise.resolve(),
    stop: () => undefined,
  };
}

/** A connection whose answers the test gives, HAVE by HAVE. */
class FakeSource {
  readonly session = { encrypted: false };
  readonly asked: {
    keys: readonly string[];
    answer: (held: HeldReceipts) => void;
    fail: (error: Error) => void;
  }[] = [];

  /** Trees the server said it holds nothing of [M-HELD]. */
  readonly nothing = new Set<string>();

  held(_tree: string, keys: readonly string[]): Promise<HeldReceipts> {
    return new Promise((resolve, reject) => {
      this.asked.push({ keys, answer: resolve, fail: reject });
    });
  }

  holdsNothing(tree: string): boolean {
    return this.nothing.has(tree);
  }
}

function stored(name: string): ReceiptBody {
  return { kind: "file", name, bytes: 1, sha256: "0".repeat(64), savedAs: `t/d/${name}` };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("TreePlan", () => {
  it("[RES-HAVE] asks every HAVE at once; an entry is planned once its HAVE is answered, in order", async () => {
    const prepared = await tree(2 * MAX_HAVE_KEYS);
    const source = new FakeSource();
    const plan = heldEntries(source, prepared);
    expect(plan.length).toBe(2 * MAX_HAVE_KEYS + 2);
    expect(source.asked.map((have) => have.keys.length)).toEqual([MAX_HAVE_KEYS, MAX_HAVE_KEYS, 2]);
    expect(plan.planNow(0)).toBeUndefined();
    // The second HAVE answered first: nothing of it is planned before the first is.
    source.asked[1]?.answer(new Array<null>(MAX_HAVE_KEYS).fill(null));
    await tick();
    expect(plan.planNow(MAX_HAVE_KEYS)).toBeUndefined();
    const first = new Array<ReceiptBody | null>(MAX_HAVE_KEYS).fill(null);
    first[0] = stored("f0000");
    source.asked[0]?.answer(first);
    await tick();
    // Entry 0 is held; entry 1 is the first sent, so it names the tree.
    expect(plan.planNow(0)).toMatchObject({
      held: { held: true, receipt: { savedAs: "t/d/f0000" } },
    });
    const second = plan.planNow(1);
    expect(second !== undefined && "send" in second && second.send.meta.entry?.tree).toMatch(
      /^[0-9a-f]{64}$/,
    );
    expect(plan.planNow(MAX_HAVE_KEYS)).toMatchObject({ send: {} });
    expect(plan.planNow(2 * MAX_HAVE_KEYS)).toBeUndefined();
    source.asked[2]?.answer([null, null]);
    expect(await plan.all()).toHaveLength(2 * MAX_HAVE_KEYS + 2);
  });

  it("[RES-HAVE] the connection failing before an answer fails the entries still unplanned, not those planned", async () => {
    const prepared = await tree(MAX_HAVE_KEYS);
    const source = new FakeSource();
    const plan = heldEntries(source, prepared);
    source.asked[0]?.answer(new Array<null>(MAX_HAVE_KEYS).fill(null));
    const lost = new NetworkError(ErrorCode.CONNECTION_LOST, "gone");
    source.asked[1]?.fail(lost);
    await expect(plan.plan(0)).resolves.toMatchObject({ send: {} });
    await expect(plan.plan(MAX_HAVE_KEYS)).rejects.toBe(lost);
    await expect(plan.all()).rejects.toBe(lost);
  });
  it("[RES-HAVE] a tree still being walked is asked about as it grows: only the entries found since, in HAVEs of up to 200", async () => {
    const full = await tree(MAX_HAVE_KEYS + 100);
    const shown: PreparedTree["items"][number][] = [];
    const walking = walkingTree(full, shown);
    const source = new FakeSource();
    const plan = heldEntries(source, walking);
    // Nothing found yet: nothing asked.
    expect(source.asked).toHaveLength(0);
    shown.push(...full.items.slice(0, 3));
    plan.grow();
    plan.grow();
    expect(source.asked.map((have) => have.keys.length)).toEqual([3]);
    shown.push(...full.items.slice(3));
    plan.grow();
    expect(source.asked.map((have) => have.keys.length)).toEqual([3, MAX_HAVE_KEYS, 99]);
    // Each entry asked once, in order.
    const asked = source.asked.flatMap((have) => have.keys);
    expect(new Set(asked).size).toBe(full.items.length);
    source.asked[0]?.answer([null, null, null]);
    const second = new Array<ReceiptBody | null>(MAX_HAVE_KEYS).fill(null);
    second[0] = stored("f0003");
    source.asked[1]?.answer(second);
    source.asked[2]?.answer(new Array<null>(99).fill(null));
    const plans = await plan.all();
    expect(plans).toHaveLength(full.items.length);
    expect(plans[3]).toMatchObject({ held: { held: true, receipt: { savedAs: "t/d/f0003" } } });
    // The first entry sent names the tree; no other does.
    const named = plans.filter(
      (entry) => "send" in entry && entry.send.meta.entry?.tree !== undefined,
    );
    expect(named).toEqual([plans[0]]);
    await expect(plan.plan(full.items.length - 1)).resolves.toMatchObject({ send: {} });
  });

  it("[M-HELD] once the server holds nothing of the tree, the entries found after are sent without asking", async () => {
    const full = await tree(MAX_HAVE_KEYS + 100);
    const shown: PreparedTree["items"][number][] = [...full.items.slice(0, 3)];
    const walking = walkingTree(full, shown);
    const source = new FakeSource();
    const plan = heldEntries(source, walking);
    expect(source.asked.map((have) => have.keys.length)).toEqual([3]);
    // The answer to the first HAVE says the server holds nothing of the tree.
    source.asked[0]?.answer([null, null, null]);
    const treeKey = (await plan.plan(0)) as { send: { meta: { entry?: { tree?: string } } } };
    source.nothing.add(treeKey.send.meta.entry?.tree ?? "");
    shown.push(...full.items.slice(3));
    plan.grow();
    // Nothing more asked; every entry planned, to be sent, the first alone naming the tree.
    expect(source.asked).toHaveLength(1);
    const plans = await plan.all();
    expect(plans).toHaveLength(full.items.length);
    expect(plans.every((entry) => "send" in entry)).toBe(true);
    const named = plans.filter(
      (entry) => "send" in entry && entry.send.meta.entry?.tree !== undefined,
    );
    expect(named).toEqual([plans[0]]);
  });

  it("[T-MTIME] a held directory goes all the same when an entry under it goes, at any depth; one whose contents are all held stays held", async () => {
    const root = path.join(await temp.make("gb-plan-"), "t");
    for (const file of ["a/x", "b/c/y", "b/c/z", "b/w", "e/v", "u"]) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), "x");
    }
    const prepared = await prepareTree(root);
    const paths = prepared.items.map((item) => item.meta.entry?.path.join("/"));
    expect(paths).toEqual([
      "t/a/x",
      "t/a",
      "t/b/c/y",
      "t/b/c/z",
      "t/b/c",
      "t/b/w",
      "t/b",
      "t/e/v",
      "t/e",
      "t/u",
      "t",
    ]);
    const source = new FakeSource();
    const plan = heldEntries(source, prepared);
    // Everything held but t/b/c/z: its directories up to the top go again, nothing else.
    source.asked[0]?.answer(
      prepared.items.map((item, index) =>
        index === 3
          ? null
          : {
              kind: item.meta.kind === "dir" ? "dir" : "file",
              name: item.meta.name,
              bytes: item.meta.kind === "dir" ? 0 : 1,
              sha256: "0".repeat(64),
              savedAs: paths[index] ?? "",
            },
      ),
    );
    const plans = await plan.all();
    expect(
      plans.map((entry, index) => `${"held" in entry ? "held" : "send"} ${paths[index]}`),
    ).toEqual([
      "held t/a/x",
      "held t/a",
      "held t/b/c/y",
      "send t/b/c/z",
      "send t/b/c",
      "held t/b/w",
      "send t/b",
      "held t/e/v",
      "held t/e",
      "held t/u",
      "send t",
    ]);
  });
});

describe("SendPlan", () => {
  it("[RES-TREE] items outside a tree are known at once; entries as answered; a failure becomes the item's", async () => {
    const prepared = await tree(1);
    const report = new TreeReport("t", prepared);
    const items: PlannedItem[] = [
      {
        label: "x",
        item: { origin: "memory", meta: { kind: "file", name: "x", size: 1 }, payload: "x" },
      },
      ...prepared.items.map((item, index) => ({
        label: "t",
        item,
        tree: { report, index },
      })),
    ] as PlannedItem[];
    const source = new FakeSource();
    const fates = new SendPlan(source, items, true);
    // Nothing is asked before the plan reaches the tree.
    expect(source.asked).toHaveLength(0);
    fates.grow(report);
    expect(source.asked).toHaveLength(1);
    expect(fates.fateNow(0)).toMatchObject({ send: { origin: "memory" } });
    expect(fates.fateNow(1)).toBeUndefined();
    const waiting = fates.fate(1);
    const lost = new NetworkError(ErrorCode.CONNECTION_LOST, "gone");
    source.asked[0]?.fail(lost);
    await expect(waiting).resolves.toEqual({ failed: lost });
    // Without resuming nothing is asked, and every item goes as planned.
    const direct = new FakeSource();
    const all = new SendPlan(direct, items, false);
    all.grow(report);
    expect(direct.asked).toHaveLength(0);
    expect(all.fateNow(1)).toMatchObject({ send: { origin: "path" } });
    expect(all.fateNow(2)).toMatchObject({ send: { origin: "directory" } });
  });

  it("[RES-TREE] the same tree named twice asks once: its second time goes whole, without a tree key", async () => {
    const prepared = await tree(1);
    const first = new TreeReport("t", prepared);
    const second = new TreeReport("t/", await prepareTree(`${prepared.root}/`));
    const entries = (report: TreeReport, tree: PreparedTree): PlannedItem[] =>
      tree.items.map((item, index) => ({ label: report.label, item, tree: { report, index } }));
    const items = [...entries(first, prepared), ...entries(second, second.tree)];
    const source = new FakeSource();
    const fates = new SendPlan(source, items, true);
    fates.grow(first);
    fates.grow(second);
    expect(source.asked).toHaveLength(1);
    const count = prepared.items.length;
    const again = fates.fateNow(count);
    expect(again).toMatchObject({ send: { origin: "path" } });
    const meta = again !== undefined && "send" in again ? again.send.meta : undefined;
    expect(meta?.kind === "file" ? meta.entry?.tree : "not a file").toBeUndefined();
    expect(fates.fateNow(0)).toBeUndefined();
  });
});
