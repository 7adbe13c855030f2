/**
 * gb-client tunes its process for a run of many small items (V8's optimization budget,
 * src/cli/v8-tuning.ts) when, and only when, it sends a directory tree: the entry point
 * gives the hook, and a run that sends no tree never calls it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { fakeIo, tempDir, testEnv, WAIT_MS, withTimeout } from "./fake-io.js";
import { cleanUp, listenSaving } from "./saving-server.js";

afterEach(cleanUp);

/** Runs gb-client with `inputs` against a saving server; returns how often it tuned. */
async function tunings(inputs: (dir: string) => Promise<string[]>): Promise<number> {
  const { server } = await listenSaving();
  const dir = await tempDir("gb-cli-tuning-");
  const fake = fakeIo(await testEnv());
  let calls = 0;
  const io = {
    ...fake.io,
    manyItems: (): void => {
      calls++;
    },
  };
  const argv = ["--port", String(server.address().port), ...(await inputs(dir)), "--quiet"];
  const code = await withTimeout(runClient(argv, io), WAIT_MS, "gb-client");
  expect(code, fake.stderr.text).toBe(ExitCode.OK);
  return calls;
}

describe("gb-client's tuning for many items", () => {
  it("is asked for once per tree sent, before anything is sent", async () => {
    const calls = await tunings(async (dir) => {
      for (const tree of ["one", "two"]) {
        await mkdir(path.join(dir, tree, "sub"), { recursive: true });
        await writeFile(path.join(dir, tree, "sub", "f.txt"), "x");
      }
      return ["--file", path.join(dir, "one"), "--file", path.join(dir, "two")];
    });
    // The hook itself sets the flag once (tuneForManyItems); it is asked per tree.
    expect(calls).toBe(2);
  });

  it("is not asked for when no tree is sent (files, a dictionary)", async () => {
    const calls = await tunings(async (dir) => {
      await writeFile(path.join(dir, "notes.txt"), "notes");
      await writeFile(path.join(dir, "data.json"), '{"a": 1}');
      return ["--file", path.join(dir, "notes.txt"), "--dict", path.join(dir, "data.json")];
    });
    expect(calls).toBe(0);
  });
});
