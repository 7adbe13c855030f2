import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GB_STATE_DIRECTORY, receivedNames } from "../bench/files.js";

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("bench: what a receiver stored", () => {
  it("gb-server's state directory counts only when a partial is left in it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gb-bench-files-"));
    made.push(dir);
    await writeFile(path.join(dir, "big.bin"), "x");
    await mkdir(path.join(dir, GB_STATE_DIRECTORY));
    expect(await receivedNames(dir)).toEqual(["big.bin"]);
    await writeFile(path.join(dir, GB_STATE_DIRECTORY, "k.part"), "x");
    expect((await receivedNames(dir)).sort()).toEqual([GB_STATE_DIRECTORY, "big.bin"]);
  });
});
