/**
 * [T-WALK] gb-client walks a tree as it sends it: the first entries go while the rest is
 * still being read, and a limit of [T-PATH] or [T-LIMIT] found part way stops the tree
 * there (what went before it is stored, with its receipts; nothing after it is sent), with
 * an input error (exit 7) that says so.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { MAX_TREE_DEPTH } from "../../src/protocol/constants.js";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.js";
import { fakeIo, tempDir, testEnv, WAIT_MS, withTimeout } from "./fake-io.js";
import { cleanUp, listenSaving } from "./saving-server.js";

const relays: CountingRelay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  await cleanUp();
});

/** More files than the walk finds before it first lets its entries go. */
const FILES = 600;

/** "big/a" with {@link FILES} files; then "big/z", a chain of directories too deep. */
async function tooDeepPartWay(): Promise<string> {
  const root = path.join(await tempDir("gb-cli-walk-"), "big");
  await mkdir(path.join(root, "a"), { recursive: true });
  for (let index = 0; index < FILES; index++) {
    await writeFile(path.join(root, "a", `f${String(index).padStart(4, "0")}`), `${index}`);
  }
  await mkdir(path.join(root, "z", ...Array.from({ length: MAX_TREE_DEPTH }, () => "d")), {
    recursive: true,
  });
  return root;
}

describe("gb-client walking a tree as it sends it", () => {
  it("[T-WALK] [T-PATH] a tree too deep part way: what came before is stored, the rest is not sent, exit 7", async () => {
    const { server, saveDir } = await listenSaving();
    const root = await tooDeepPartWay();
    const later = path.join(path.dirname(root), "later.txt");
    await writeFile(later, "later");
    const fake = fakeIo(await testEnv());
    const argv = ["--port", String(server.address().port), "--file", root, "--file", later];
    const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, "gb-client");
    expect(code, fake.stderr.text).toBe(ExitCode.INPUT);
    expect(fake.stderr.text).toMatch(/cannot be sent as a tree: it has deeper than 64 levels/);
    expect(fake.stderr.text).toContain(`${later} was not sent: the run stopped before it (`);
    expect(fake.stdout.text).toMatch(/✘ tree .* stored as big · 600 of 600 files, 1 directory/);
    expect(fake.stdout.text).toContain("the rest was not sent (see the error above)");
    // The files found before the limit are stored, whole; nothing after it, nor the later file.
    expect(await readdir(path.join(saveDir, "big", "a"))).toHaveLength(FILES);
    expect((await readdir(saveDir)).filter((name) => !name.startsWith("."))).toEqual(["big"]);
    expect(await readdir(path.join(saveDir, "big"))).toEqual(["a"]);
  });

  it("--json: the tree's summary says it is not complete", async () => {
    const { server } = await listenSaving();
    const root = await tooDeepPartWay();
    const fake = fakeIo(await testEnv());
    const argv = ["--port", String(server.address().port), "--file", root, "--json"];
    const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, "gb-client");
    expect(code).toBe(ExitCode.INPUT);
    const events = fake.stdout.text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.filter((event) => event["event"] === "stored")).toHaveLength(FILES + 1);
    expect(events.at(-1)).toMatchObject({ event: "tree", files: FILES, complete: false });
  });

  it("[T-WALK] the connection lost while the tree is walked: the walk stops, the tree says what went, later inputs fail unsent", async () => {
    const { server } = await listenSaving();
    // Cut early: a few hundred KiB pass, while the walk has far to go.
    const relay = await startCountingRelay(server.address().port, { cutAfterBytes: 100_000 });
    relays.push(relay);
    const root = path.join(await tempDir("gb-cli-walk-"), "many");
    for (let dir = 0; dir < 40; dir++) {
      const where = path.join(root, `d${String(dir).padStart(2, "0")}`);
      await mkdir(where, { recursive: true });
      for (let index = 0; index < 250; index++) {
        await writeFile(path.join(where, `f${String(index).padStart(3, "0")}`), "x".repeat(1000));
      }
    }
    const later = path.join(path.dirname(root), "later.txt");
    await writeFile(later, "later");
    const fake = fakeIo(await testEnv());
    const argv = ["--port", String(relay.port), "--file", root, "--file", later, "--json"];
    const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, "gb-client");
    expect(code, fake.stderr.text).toBe(ExitCode.NETWORK);
    const events = fake.stdout.text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failed = events.filter((event) => event["event"] === "failed");
    // Not every one of the tree's 10,041 entries: the walk stopped when the connection went.
    expect(failed.length).toBeLessThan(5000);
    const tree = events.find((event) => event["event"] === "tree");
    expect(tree).toMatchObject({ complete: false });
    // The later file: failed, not sent, after every item of the tree (ids in order).
    const last = events.at(-1);
    expect(last).toMatchObject({ event: "failed", path: later, code: "CONNECTION_LOST" });
    const ids = events.flatMap((event) =>
      event["event"] === "stored" || event["event"] === "failed" ? [event["id"]] : [],
    );
    expect(ids).toEqual(ids.map((_, index) => index + 1));
  });
});
