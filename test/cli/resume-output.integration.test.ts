/**
 * What gb-client says of a file that resumes [RES-RESUME]: where it resumes, the
 * receipt line's "resumed at", the stored event's `resumed`; and --no-resume [RES-ASK].
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import type { GbServer } from "../../src/transfer/server.js";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.js";
import { fakeIo, tempDir, testEnv, WAIT_MS, withTimeout } from "./fake-io.js";
import { cleanUp, listenSaving } from "./saving-server.js";

const MiB = 1024 * 1024;
const SIZE = 3 * MiB;

const relays: CountingRelay[] = [];

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  await cleanUp();
});

async function listen(): Promise<GbServer> {
  return (await listenSaving()).server;
}

async function relay(server: GbServer, cutAfterBytes?: number): Promise<CountingRelay> {
  const started = await startCountingRelay(
    server.address().port,
    cutAfterBytes === undefined ? {} : { cutAfterBytes },
  );
  relays.push(started);
  return started;
}

async function client(argv: string[]) {
  const fake = fakeIo(await testEnv());
  const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, `runClient ${argv.join(" ")}`);
  return { code, stdout: fake.stdout, stderr: fake.stderr.text };
}

/** A 3 MiB file the server holds 2 MiB of, from a run the network cut. */
async function cutOff(server: GbServer): Promise<string> {
  const file = path.join(await tempDir("gb-cli-input-"), "big.bin");
  await writeFile(file, randomBytes(SIZE));
  const cutting = await relay(server, 2 * MiB);
  const first = await client(["--port", String(cutting.port), "--file", file]);
  expect(first.code).toBe(ExitCode.NETWORK);
  await withTimeout(cutting.idle(), WAIT_MS, "the cut connection to close");
  return file;
}

/** Runs gb-client again, through a counting relay, on a file a cut run left `server` part of. */
async function rerun(server: GbServer, flags: string[]) {
  const file = await cutOff(server);
  const counting = await relay(server);
  const run = await client(["--port", String(counting.port), ...flags, "--file", file]);
  return { ...run, counting };
}

describe("[RES-RESUME] gb-client resuming a file", () => {
  it("[RES-RESUME] says where it resumes, and its receipt line says resumed at", async () => {
    const server = await listen();
    const { code, stdout, stderr, counting } = await rerun(server, []);
    expect(code, stderr).toBe(ExitCode.OK);
    expect(stderr).toMatch(/^resuming .*big\.bin at \d/m);
    expect(stdout.text).toMatch(/stored as big\.bin · 3\.0 MiB in .* · resumed at \d/);
    expect(counting.toServerBytes).toBeLessThan(2 * MiB);
  });

  it("[RES-RESUME] --json: the stored event's resumed is the bytes not sent again", async () => {
    const server = await listen();
    const { code, stdout, counting } = await rerun(server, ["--json"]);
    expect(code).toBe(ExitCode.OK);
    const stored = stdout.events.find((event) => event["event"] === "stored");
    const resumed = Number(stored?.["resumed"]);
    expect(resumed).toBeGreaterThan(MiB);
    expect(counting.toServerBytes).toBeGreaterThanOrEqual(SIZE - resumed);
    expect(stored).toMatchObject({ bytes: SIZE, savedAs: "big.bin" });
  });

  it("[RES-ASK] --no-resume sends the file whole: no resumed field", async () => {
    const server = await listen();
    const { code, stdout, counting } = await rerun(server, ["--json", "--no-resume"]);
    expect(code).toBe(ExitCode.OK);
    const stored = stdout.events.find((event) => event["event"] === "stored");
    expect(stored).not.toHaveProperty("resumed");
    expect(counting.toServerBytes).toBeGreaterThan(SIZE);
  });

  it("an entry of a tree that resumes is named by its path in the tree, not by the tree", async () => {
    const server = await listen();
    const root = path.join(await tempDir("gb-cli-input-"), "album");
    await mkdir(path.join(root, "raw"), { recursive: true });
    await writeFile(path.join(root, "raw", "big.bin"), randomBytes(SIZE));
    const cutting = await relay(server, 2 * MiB);
    const first = await client(["--port", String(cutting.port), "--file", root]);
    expect(first.code).toBe(ExitCode.NETWORK);
    await withTimeout(cutting.idle(), WAIT_MS, "the cut connection to close");
    const again = await client(["--port", String(server.address().port), "--file", root]);
    expect(again.code, again.stderr).toBe(ExitCode.OK);
    expect(again.stderr).toMatch(/^resuming album\/raw\/big\.bin at \d/m);
    expect(again.stdout.text).toMatch(/1 of 1 file, 2 directories/);
  });
});
