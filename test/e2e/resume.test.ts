/**
 * The test of resuming [RES-RESUME]: gb-client is killed (SIGKILL) half way
 * through a 512 MiB file, and the same command run again sends only the missing part.
 * The bytes crossing the wire are counted by a relay between the client and gb-server:
 * plain, encrypted, and once with the server killed and started again between the runs.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CountingRelay } from "../support/counting-relay.js";
import { fileSha256, useCountingRelays, writeDistinctMiBs } from "./resume-support.js";
import {
  freshEnv,
  jsonLines,
  runClient,
  startClient,
  startServer,
  tempDir,
  withTimeout,
  type ServerProcess,
} from "./harness.js";

const MiB = 1024 * 1024;
/** The file of the test. */
const FILE_BYTES = 512 * MiB;
/** The first run is killed once the relay has passed this much on: about half. */
const KILL_AFTER_BYTES = Math.floor(FILE_BYTES * 0.55);
/** The second run must send well under the whole file. */
const MAX_SECOND_RUN_BYTES = FILE_BYTES * 0.6;
/** Bound on one run of gb-client (a few seconds on a loaded 2-core machine). */
const RUN_MS = 60_000;
const STATE_DIRECTORY = ".gb-transfer-state";

let sourceDir: string;
let source: string;
let sourceSha256: string;

/** The 512 MiB source, written fast ({@link writeDistinctMiBs}). */
beforeAll(async () => {
  sourceDir = await mkdtemp(path.join(os.tmpdir(), "gb-e2e-resume-"));
  source = path.join(sourceDir, "big.bin");
  sourceSha256 = await writeDistinctMiBs(source, FILE_BYTES);
}, RUN_MS);

afterAll(async () => {
  await rm(sourceDir, { recursive: true, force: true });
});

const countingRelayTo = useCountingRelays();

function relayTo(server: ServerProcess): Promise<CountingRelay> {
  return countingRelayTo(server.port);
}

function clientArgs(relay: CountingRelay, encrypted: boolean): string[] {
  return [
    "--host",
    "127.0.0.1",
    "--port",
    String(relay.port),
    "--file",
    source,
    "--json",
    ...(encrypted ? ["--encrypt"] : []),
  ];
}

describe("[RES-RESUME] gb-client killed half way through 512 MiB, run again", () => {
  for (const scenario of [
    { name: "plain", encrypted: false, restart: false },
    { name: "encrypted", encrypted: true, restart: false },
    { name: "encrypted, the server killed and started again", encrypted: true, restart: true },
  ]) {
    it(
      `[RES-RESUME] sends only the missing part, and the stored file is whole (${scenario.name})`,
      async () => {
        const env = await freshEnv();
        const saveDir = await tempDir("gb-e2e-save-");
        const serverArgs = ["--no-print", "--save-dir", saveDir];
        let server = await startServer(serverArgs, { env });

        // First run: killed once about half the file has crossed.
        const firstRelay = await relayTo(server);
        const first = await startClient(clientArgs(firstRelay, scenario.encrypted), { env });
        await withTimeout(firstRelay.passed(KILL_AFTER_BYTES), RUN_MS, "half the file to cross");
        first.child.kill("SIGKILL");
        expect((await first.result(RUN_MS)).signal).toBe("SIGKILL");
        // What the client wrote before it died still drains through the relay: counted.
        await withTimeout(firstRelay.idle(), RUN_MS, "the first run's connection to close");
        const firstRunBytes = firstRelay.toServerBytes;

        if (scenario.restart) {
          expect((await server.stop("SIGKILL")).signal).toBe("SIGKILL");
          server = await startServer(serverArgs, { env });
        }

        // Second run: the same command, through a fresh counting relay.
        const secondRelay = await relayTo(server);
        const second = await runClient(clientArgs(secondRelay, scenario.encrypted), {
          env,
          timeoutMs: RUN_MS,
        });
        expect(second.code, second.stderr).toBe(0);
        const stored = jsonLines(second.stdout).find((event) => event["event"] === "stored");
        expect(stored).toMatchObject({
          bytes: FILE_BYTES,
          sha256: sourceSha256,
          savedAs: "big.bin",
        });
        const resumed = Number(stored?.["resumed"]);
        expect(resumed).toBeGreaterThan(0);

        const secondRunBytes = secondRelay.toServerBytes;
        expect(secondRunBytes).toBeLessThan(MAX_SECOND_RUN_BYTES);
        // More than the part the first run never sent: frames, and what the server lost.
        expect(secondRunBytes).toBeGreaterThan(FILE_BYTES - firstRunBytes);
        expect(secondRunBytes).toBeGreaterThanOrEqual(FILE_BYTES - resumed);

        // One file, whole, and nothing partial left beside it.
        expect(await fileSha256(path.join(saveDir, "big.bin"))).toBe(sourceSha256);
        expect((await readdir(saveDir)).sort()).toEqual([STATE_DIRECTORY, "big.bin"]);
        expect(await readdir(path.join(saveDir, STATE_DIRECTORY))).toEqual([]);
        await server.stop();
      },
      RUN_MS * 2,
    );
  }
});
