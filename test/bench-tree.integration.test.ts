/** Case 8's source tree and its check: a received tree that differs is never counted. */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TREE_FILE_BYTES, verifyTree, writeSourceTree } from "../bench/case-tree.js";

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("bench case 8: the tree", () => {
  it("a copy passes; a changed, missing or extra file fails", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "gb-bench-tree-"));
    made.push(work);
    const source = await writeSourceTree(path.join(work, "src"), 150);
    expect(source.files.size).toBe(150);
    const copy = path.join(work, "copy");
    await cp(source.root, copy, { recursive: true });
    await verifyTree(copy, source);

    const [first] = source.files.keys();
    await writeFile(path.join(copy, first!), Buffer.alloc(TREE_FILE_BYTES));
    await expect(verifyTree(copy, source)).rejects.toThrow(/differs/);
    await rm(path.join(copy, first!));
    await expect(verifyTree(copy, source)).rejects.toThrow(/149 files/);
    await writeFile(path.join(copy, first!), "x");
    await writeFile(path.join(copy, "extra"), "x");
    await expect(verifyTree(copy, source)).rejects.toThrow(/151 files/);
  });
});
