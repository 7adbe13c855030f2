import { open, readFile, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TreeJournal } from "../../src/transfer/server/tree-journal.js";
import { TempDirs } from "../support/temp-dirs.js";

const temp = new TempDirs();
afterEach(async () => {
  await temp.removeAll();
});

const RECEIPT = {
  kind: "file",
  name: "a.txt",
  bytes: 1,
  sha256: "0".repeat(64),
  savedAs: "t/a.txt",
} as const;

/** How many of this process's file descriptors are open on `file`. */
async function openOn(file: string): Promise<number> {
  const fds = await readdir("/proc/self/fd");
  const targets = await Promise.all(
    fds.map((fd) => readlink(path.join("/proc/self/fd", fd)).catch(() => "")),
  );
  return targets.filter((target) => target === file || target === `${file} (deleted)`).length;
}

/** How long the journals of these tests keep their file open after a batch. */
const IDLE_MS = 50;

/** Resolves once no file descriptor of this process is open on `file` (2 s at most). */
async function closedOn(file: string): Promise<void> {
  for (let attempt = 0; attempt < 200 && (await openOn(file)) > 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(await openOn(file)).toBe(0);
}

describe("TreeJournal", () => {
  it("[RES-JOURNAL] batches that follow each other share one open file, closed once none comes for a while", async () => {
    const file = path.join(await temp.make("gb-journal-"), "k.tree");
    // Its opens are counted: batches that follow each other share one.
    const opens = vi.fn(open);
    const journal = await TreeJournal.load(file, () => undefined, opens, IDLE_MS);
    const keys = Array.from({ length: 50 }, (_, index) => index.toString(16).padStart(64, "0"));
    // Lines recorded while a batch is written go in the next one, through the same file.
    const first = journal.stored(keys[0] ?? "", RECEIPT);
    await Promise.resolve();
    const rest = keys.slice(1).map((key) => journal.stored(key, RECEIPT));
    await Promise.all([first, ...rest]);
    expect(opens).toHaveBeenCalledTimes(1);
    // Kept open for the next batch, then closed.
    expect(await openOn(file)).toBe(1);
    await closedOn(file);
    const late = journal.stored("d".repeat(64), RECEIPT);
    await late;
    expect(opens).toHaveBeenCalledTimes(2);
    await closedOn(file);
    const again = await TreeJournal.load(file, () => undefined);
    for (const key of keys) expect(again.held(key)).toMatchObject({ savedAs: "t/a.txt" });
    // Restarted while a batch is queued: the old file is closed before it goes, the next
    // line goes to a new one.
    const queued = journal.stored("f".repeat(64), RECEIPT);
    journal.restart();
    await Promise.all([queued, journal.stored("e".repeat(64), RECEIPT)]);
    await closedOn(file);
    const restarted = await TreeJournal.load(file, () => undefined);
    expect(restarted.held("e".repeat(64))).not.toBeNull();
    expect(restarted.held(keys[0] ?? "")).toBeNull();
    await journal.remove();
    expect(await openOn(file)).toBe(0);
  });

  it("[RES-JOURNAL] a line recorded right after a restart is kept, in the new journal", async () => {
    const file = path.join(await temp.make("gb-journal-"), "k.tree");
    const journal = await TreeJournal.load(file, () => undefined);
    void journal.created(["t"], "t", "1:2");
    journal.restart();
    await journal.stored("e".repeat(64), RECEIPT);
    const lines = (await readFile(file, "utf8")).trim().split("\\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"entry"');
    const again = await TreeJournal.load(file, () => undefined);
    expect(again.held("e".repeat(64))).toMatchObject({ savedAs: "t/a.txt" });
    expect(again.top).toBeUndefined();
  });

  it("[RES-JOURNAL] what is stored is written, not held in memory; a directory keeps its identity", async () => {
    const file = path.join(await temp.make("gb-journal-"), "k.tree");
    const journal = await TreeJournal.load(file, () => undefined);
    await journal.created(["t"], "t", "1:2");
    // The directory is on disk before anything is named in it.
    expect(await TreeJournal.load(file, () => undefined)).toMatchObject({
      top: { as: "t", id: "1:2" },
    });
    await journal.stored("e".repeat(64), RECEIPT);
    expect(journal.held("e".repeat(64))).toBeNull();
    const again = await TreeJournal.load(file, () => undefined);
    expect(again.top).toEqual({ as: "t", id: "1:2" });
    expect(again.held("e".repeat(64))).not.toBeNull();
  });
});
