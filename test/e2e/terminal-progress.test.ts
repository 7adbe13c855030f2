import { mkdir, open, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLIENT_BIN, SERVER_BIN, freshEnv, runClient, startServer, tempDir } from "./harness.js";
import { CTRL_C, startOnPty } from "./pty.js";
import { startThrottledRelay } from "./throttled-relay.js";

/** Through the throttled relay this takes a few seconds: long enough for a progress line. */
const FILE_BYTES = 4 * 1024 * 1024;

describe("[CLI-PROGRESS] gb-server on a terminal", () => {
  it("[CLI-PROGRESS] shows a progress line for a long incoming item, then the item", async () => {
    const env = await freshEnv();
    const saveDir = await tempDir("gb-e2e-save-");
    const server = startOnPty(
      process.execPath,
      [SERVER_BIN, "--host", "127.0.0.1", "--port", "0", "--save-dir", saveDir],
      { env, cwd: await tempDir("gb-e2e-cwd-") },
    );
    const port = await server.output.waitFor((out) => {
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(out.text);
      return match === null ? undefined : Number(match[1]);
    }, "the listening line");
    const relayPort = await startThrottledRelay(port);
    const file = path.join(await tempDir("gb-e2e-big-"), "big.bin");
    const handle = await open(file, "w");
    await handle.truncate(FILE_BYTES);
    await handle.close();

    const client = runClient(["--port", String(relayPort), "--file", file], { env });
    await server.output.waitFor(
      (out) => (/receiving big\.bin from 127\.0\.0\.1:\d+ .*%/.test(out.text) ? true : undefined),
      "the progress line",
    );
    expect((await client).code).toBe(0);
    await server.output.waitFor(
      (out) => (out.text.includes("binary file, 4.0 MiB") ? true : undefined),
      "the item",
    );
    server.type(CTRL_C);
    expect((await server.exit()).code).toBe(0);
  });
});

/** Files of the tree sent through the throttled relay: about a second of sending. */
const TREE_FILES = 1000;

describe("[CLI-PROGRESS] gb-client sending a tree on a terminal", () => {
  it("[CLI-PROGRESS] one progress line for the tree, files done of all; an entry that prints nothing does not redraw it", async () => {
    const env = await freshEnv();
    const saveDir = await tempDir("gb-e2e-save-");
    const server = await startServer(["--no-print", "--save-dir", saveDir], { env });
    const relayPort = await startThrottledRelay(server.port);
    const root = path.join(await tempDir("gb-e2e-tree-"), "photos");
    await mkdir(path.join(root, "a"), { recursive: true });
    for (let index = 0; index < TREE_FILES; index++) {
      await writeFile(path.join(root, "a", `f${String(index).padStart(3, "0")}`), "x".repeat(6000));
    }
    const client = startOnPty(
      process.execPath,
      [CLIENT_BIN, "--port", String(relayPort), "--file", root],
      { env, cwd: await tempDir("gb-e2e-cwd-") },
    );
    expect((await client.exit()).code).toBe(0);
    const out = client.output.text;
    expect(out).toMatch(/sending .*photos · .* · \d+\/1000 files/);
    expect(out).toContain("stored as photos · 1000 of 1000 files, 2 directories");
    // The spinner redraws a few times a second; clearing it for each entry answered (none
    // prints a line) moved the cursor once an entry, hundreds of times here.
    const cursorMoves = out.split("\x1b[1G").length - 1;
    expect(cursorMoves).toBeLessThan(TREE_FILES / 4);
    await server.stop();
  });
});
