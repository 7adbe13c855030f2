import { readdir } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { GbClient } from "../../src/transfer/client.js";
import { GbServer } from "../../src/transfer/server.js";
import { TempDirs } from "../support/temp-dirs.js";
import { withTimeout } from "../support/with-timeout.js";

const WAIT_MS = 10_000;
const POLL_MS = 10;
const tempDirs = new TempDirs();
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await tempDirs.removeAll();
});

describe("GbServer.abort", () => {
  it("[CLI-INTERRUPT] drops items in flight and resolves only once their temporary files are gone", async () => {
    const saveDir = await tempDirs.make("gb-abort-");
    const server = await GbServer.listen({
      host: "127.0.0.1",
      port: 0,
      masterKey: Buffer.alloc(32, 1),
      saveDir,
    });
    const client = await GbClient.connect({ host: "127.0.0.1", port: server.address().port });
    cleanups.push(() => {
      client.destroy();
    });
    // A stream that sends one chunk, then nothing until the test is over.
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    cleanups.push(release);
    async function* source(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(1024, 7);
      await stalled;
    }
    const sent = client.sendStream(source(), { name: "stalled.bin", size: null });
    sent.catch(() => undefined);

    const deadline = Date.now() + WAIT_MS;
    while (!(await readdir(saveDir)).some((name) => name.endsWith(".part"))) {
      if (Date.now() > deadline) throw new Error("no temporary file appeared");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    await withTimeout(server.abort(), WAIT_MS, "abort");
    // No waiting here: abort resolved, so the temporary file is already gone.
    expect(await readdir(saveDir)).toEqual([]);
    await expect(sent).rejects.toMatchObject({ code: "CONNECTION_LOST" });
  });
});
