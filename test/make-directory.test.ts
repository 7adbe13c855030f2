import { existsSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeDirectory } from "../src/make-directory.js";

let root: string | undefined;
afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

describe("makeDirectory", () => {
  it("creates missing levels and accepts an existing directory", async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "gb-mkdir-"));
    const deep = path.join(root, "a", "b", "c");
    await makeDirectory(deep, 0o700);
    expect((await stat(deep)).isDirectory()).toBe(true);
    expect((await stat(deep)).mode & 0o777).toBe(0o700);
    await expect(makeDirectory(deep)).resolves.toBeUndefined();
  });

  it("fails when a file is in the way", async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "gb-mkdir-"));
    await writeFile(path.join(root, "file"), "x");
    await expect(makeDirectory(path.join(root, "file"))).rejects.toMatchObject({ code: "EEXIST" });
    await expect(makeDirectory(path.join(root, "file", "below"))).rejects.toMatchObject({
      code: "ENOTDIR",
    });
  });

  // Node's recursive mkdir never returns for this path; ours fails at once.
  it.runIf(existsSync("/proc/self"))(
    "fails, rather than hanging, under /proc",
    async () => {
      await expect(makeDirectory("/proc/gb-transfer-test/x")).rejects.toMatchObject({
        code: "ENOENT",
      });
    },
    5000,
  );
});
