/**
 * `gb-client --file DIR` as a program: the tree's summary, --json events per entry, the
 * entries skipped, and the exit code when an entry fails.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
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
});
