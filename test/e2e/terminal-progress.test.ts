import { open } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_BIN, freshEnv, runClient, tempDir } from "./harness.js";
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
