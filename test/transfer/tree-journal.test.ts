import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
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

describe("TreeJournal", () => {
  it("[RES-JOURNAL] a line recorded right after a restart is kept, in the new journal", async () => {
    const file = path.join(await temp.make("gb-journal-"), "k.tree");
    const journal = await TreeJournal.load(file, () => undefined);
    journal.created(["t"], "t", "1:2");
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
    journal.created(["t"], "t", "1:2");
    await journal.stored("e".repeat(64), RECEIPT);
    expect(journal.held("e".repeat(64))).toBeNull();
    const again = await TreeJournal.load(file, () => undefined);
    expect(again.top).toEqual({ as: "t", id: "1:2" });
    expect(again.held("e".repeat(64))).not.toBeNull();
  });
});
