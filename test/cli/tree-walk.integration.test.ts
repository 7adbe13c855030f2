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
import { fakeIo, tempDir, testEnv, WAIT_MS, withTimeout } from "./fake-io.js";
import { cleanUp, listenSaving } from "./saving-server.js";

afterEach(cleanUp);

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
    expect(fake.stderr.text).toContain(`${later} was not sent: it comes after that tree`);
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
});
