/**
 * `gb-client --file DIR` as a program: the tree's summary, --json events per entry, the
 * entries skipped, and the exit code when an entry fails.
 */
import { execFileSync } from "node:child_process";
import { lstat, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { closeFakeServers, fakeServer } from "../support/fake-server.js";
import {
  freshEnv,
  itemEvents,
  jsonLines,
  runClient,
  startSavingServer,
  tempDir,
} from "./harness.js";
import { parseEventLine } from "../support/json-event.js";

afterEach(closeFakeServers);

async function makeTree(): Promise<string> {
  const top = path.join(await tempDir(), "docs");
  await mkdir(path.join(top, "a", "empty"), { recursive: true });
  await writeFile(path.join(top, "a", "one.txt"), "one\n");
  await writeFile(path.join(top, "two.txt"), "two\n");
  await symlink("/etc/passwd", path.join(top, "link"));
  execFileSync("mkfifo", [path.join(top, "pipe")]);
  return top;
}

describe("gb-client --file DIR", () => {
  it("[T-WALK] sends the tree: one summary line, links and FIFOs skipped with a warning, exit 0", async () => {
    const top = await makeTree();
    const { env, saveDir, server } = await startSavingServer([]);
    const client = await runClient(["--port", String(server.port), "--file", top], {
      env,
      timeoutMs: 30_000,
    });
    expect(client.code).toBe(0);
    expect(client.stdout).toMatch(
      /^✔ tree .*docs stored as docs · 2 of 2 files, 3 directories, 8 B · 2 skipped\n$/,
    );
    expect(client.stderr).toContain("warning: skipped docs/link: a symbolic link");
    expect(client.stderr).toContain("warning: skipped docs/pipe: not a regular file");
    expect(await readFile(path.join(saveDir, "docs", "a", "one.txt"), "utf8")).toBe("one\n");
  });

  it("--json: a skipped event per left-out entry, a stored event per entry with its path, then the tree's summary", async () => {
    const top = await makeTree();
    const { env, server } = await startSavingServer([]);
    const client = await runClient(["--port", String(server.port), "--file", top, "--json"], {
      env,
      timeoutMs: 30_000,
    });
    expect(client.code).toBe(0);
    const events = jsonLines(client.stdout);
    expect(events.map((event) => [event["event"], event["name"] ?? null, event["path"]])).toEqual([
      ["skipped", null, "docs/link"],
      ["skipped", null, "docs/pipe"],
      ["stored", "empty", "docs/a/empty"],
      ["stored", "one.txt", "docs/a/one.txt"],
      ["stored", "a", "docs/a"],
      ["stored", "two.txt", "docs/two.txt"],
      ["stored", "docs", "docs"],
      ["tree", "docs", top],
    ]);
    expect(events.at(-1)).toMatchObject({
      savedAs: "docs",
      files: 2,
      directories: 3,
      bytes: 8,
      failed: 0,
      skipped: 2,
    });
    expect(itemEvents(client.stdout).filter((event) => event["event"] === "stored")).toHaveLength(
      5,
    );
    // [CLI-JSON-PROGRESS] each entry's final progress event, with its name and path too.
    const finals = client.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map(parseEventLine)
      .filter((event) => event["event"] === "progress" && event["final"] === true);
    expect(finals.map((event) => [event["name"], event["path"], event["total"]])).toEqual([
      ["empty", "docs/a/empty", 0],
      ["one.txt", "docs/a/one.txt", 4],
      ["a", "docs/a", 0],
      ["two.txt", "docs/two.txt", 4],
      ["docs", "docs", 0],
    ]);
  });

  it("every entry is tried; one the server refuses makes the exit code non-zero", async () => {
    const top = await makeTree();
    // A server that refuses one file of the tree and stores everything else.
    const port = await fakeServer((peer) => {
      peer.greet();
      peer.onItemEnd = (item) => {
        if (item.meta.name === "one.txt") peer.error("STORAGE_FAILED", "disk full", item.id);
        else peer.receipt(item, item.meta.name);
      };
    });
    const client = await runClient(["--port", String(port), "--file", top, "--json"], {
      env: await freshEnv(),
      timeoutMs: 30_000,
    });
    expect(client.code).toBe(4);
    const events = jsonLines(client.stdout);
    expect(events.filter((event) => event["event"] === "failed")).toMatchObject([
      { code: "STORAGE_FAILED", name: "one.txt", path: "docs/a/one.txt" },
    ]);
    expect(events.filter((event) => event["event"] === "stored")).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({ event: "tree", files: 1, directories: 3, failed: 1 });
  });

  it("[T-MTIME] entries modified before 1970 go with the time 1970-01-01, each with a warning (or a notice event), and the tree is stored", async () => {
    const top = path.join(await tempDir(), "old");
    await mkdir(path.join(top, "dir"), { recursive: true });
    await writeFile(path.join(top, "dir", "letter.txt"), "1960\n");
    await writeFile(path.join(top, "new.txt"), "now\n");
    execFileSync("touch", [
      "-m",
      "-d",
      "1960-01-01T00:00:00Z",
      path.join(top, "dir", "letter.txt"),
    ]);
    execFileSync("touch", ["-m", "-d", "1950-06-01T00:00:00Z", path.join(top, "dir")]);
    const { env, saveDir, server } = await startSavingServer([]);
    const client = await runClient(["--port", String(server.port), "--file", top], {
      env,
      timeoutMs: 30_000,
    });
    expect(client.code).toBe(0);
    expect(client.stdout).toMatch(/^✔ tree .*old stored as old · 2 of 2 files, 2 directories/);
    expect(client.stderr).toContain(
      "warning: old/dir was modified before 1970: it is sent with the time 1970-01-01 00:00:00 UTC",
    );
    expect(client.stderr).toContain("warning: old/dir/letter.txt was modified before 1970");
    for (const stored of [["dir", "letter.txt"], ["dir"]]) {
      const info = await lstat(path.join(saveDir, "old", ...stored), { bigint: true });
      expect(info.mtimeNs / 1_000_000n).toBe(0n);
    }
    const again = await runClient(["--port", String(server.port), "--file", top, "--json"], {
      env,
      timeoutMs: 30_000,
    });
    expect(again.code).toBe(0);
    expect(jsonLines(again.stdout).filter((event) => event["event"] === "notice")).toEqual([
      { event: "notice", tree: top, path: "old/dir", reason: "time-before-1970" },
      { event: "notice", tree: top, path: "old/dir/letter.txt", reason: "time-before-1970" },
    ]);
  });

  it("[T-ORDER] the same tree given twice goes twice, the second time whole into a new top folder: nothing merged", async () => {
    const top = await makeTree();
    const { env, saveDir, server } = await startSavingServer([]);
    const client = await runClient(
      ["--port", String(server.port), "--file", top, "--file", `${top}/`],
      { env, timeoutMs: 30_000 },
    );
    expect(client.code, client.stderr).toBe(0);
    expect(client.stdout).toMatch(/stored as docs ·.*\n.*stored as docs-1 · 2 of 2 files/);
    for (const folder of ["docs", "docs-1"]) {
      expect(await readFile(path.join(saveDir, folder, "a", "one.txt"), "utf8")).toBe("one\n");
      expect(await readFile(path.join(saveDir, folder, "two.txt"), "utf8")).toBe("two\n");
    }
    const names = execFileSync("find", [saveDir, "-name", "*-1*"], { encoding: "utf8" });
    expect(names.trim()).toBe(path.join(saveDir, "docs-1"));
  });
});

describe("[T-BATCH] small files of a directory go in batches", () => {
  /** 3 directories of 60 files (one holding a subdirectory between its files), and a large file. */
  async function manyFiles(): Promise<string> {
    const top = path.join(await tempDir(), "many");
    for (const dir of ["d1", "d2", "d3"]) {
      await mkdir(path.join(top, dir), { recursive: true });
      for (let index = 0; index < 60; index++) {
        const name = `f${String(index).padStart(2, "0")}.txt`;
        await writeFile(path.join(top, dir, name), `${dir}/${name}\n`.repeat(index));
      }
    }
    await mkdir(path.join(top, "d2", "f30.txt.d"));
    await writeFile(path.join(top, "d2", "f30.txt.d", "inner"), "inner\n");
    await writeFile(path.join(top, "d3", "large.bin"), Buffer.alloc(70_000, 7));
    return top;
  }

  it.each([
    ["plain", [] as string[]],
    ["encrypted", ["--encrypt"]],
  ])(
    "%s: the tree arrives whole, in fewer items than files, each file with its own stored event",
    async (_mode, flags) => {
      const top = await manyFiles();
      const { env, saveDir, server } = await startSavingServer(["--json", "--no-print"]);
      const client = await runClient(
        ["--port", String(server.port), "--file", top, "--json", ...flags],
        { env, timeoutMs: 30_000 },
      );
      expect(client.code).toBe(0);
      execFileSync("diff", ["-r", top, path.join(saveDir, "many")]);
      const stored = jsonLines(client.stdout).filter((event) => event["event"] === "stored");
      // 182 files and 5 directories, each reported.
      expect(stored).toHaveLength(187);
      const received = await server.waitForEvent(
        (event) => event["event"] === "item" && event["name"] === "many",
        "the top folder",
      );
      expect(received["encrypted"]).toBe(flags.length > 0);
      const items = server.stdout.json.filter((event) => event["event"] === "item");
      expect(items).toHaveLength(187);
      // Files of a batch share its id: far fewer ids than entries.
      expect(new Set(items.map((event) => event["id"])).size).toBeLessThan(20);
    },
  );

  it("--no-batch sends every entry as an item of its own", async () => {
    const top = await manyFiles();
    const { env, saveDir, server } = await startSavingServer(["--json", "--no-print"]);
    const client = await runClient(
      ["--port", String(server.port), "--file", top, "--no-batch", "--quiet"],
      { env, timeoutMs: 30_000 },
    );
    expect(client.code).toBe(0);
    execFileSync("diff", ["-r", top, path.join(saveDir, "many")]);
    await server.waitForEvent(
      (event) => event["event"] === "item" && event["name"] === "many",
      "the top folder",
    );
    const items = server.stdout.json.filter((event) => event["event"] === "item");
    expect(new Set(items.map((event) => event["id"])).size).toBe(187);
  });
});
