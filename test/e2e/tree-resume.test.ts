/**
 * The test of resuming a tree [RES-TREE]: gb-client is killed (SIGKILL) half way
 * through a directory tree, and the same command run again goes on in the same top
 * folder, sending neither the files already stored nor the part of the big one the
 * server kept. The bytes crossing the wire are counted by a relay.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
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
} from "./harness.js";
import { filesUnder } from "../support/files-under.js";

const MiB = 1024 * 1024;
const BIG_BYTES = 128 * MiB;
const SMALL_FILES_PER_DIRECTORY = 150;
const SMALL_BYTES = 4000;
const TREE_BYTES = BIG_BYTES + 2 * SMALL_FILES_PER_DIRECTORY * SMALL_BYTES;
/** The first run is killed once the relay has passed this much on: about half. */
const KILL_AFTER_BYTES = Math.floor(TREE_BYTES * 0.55);
/** Bound on one run of gb-client. */
const RUN_MS = 60_000;
const STATE_DIRECTORY = ".gb-transfer-state";

let sourceDir: string;
let root: string;

/** "a/" (150 small files), "m.bin" (128 MiB, each MiB unlike the others), "z/" (150). */
beforeAll(async () => {
  sourceDir = await mkdtemp(path.join(os.tmpdir(), "gb-e2e-tree-resume-"));
  root = path.join(sourceDir, "photos");
  for (const directory of ["a", "z"]) {
    await mkdir(path.join(root, directory), { recursive: true });
    for (let index = 0; index < SMALL_FILES_PER_DIRECTORY; index++) {
      const name = `f${String(index).padStart(3, "0")}.txt`;
      await writeFile(path.join(root, directory, name), randomBytes(SMALL_BYTES));
    }
  }
  await writeDistinctMiBs(path.join(root, "m.bin"), BIG_BYTES);
}, RUN_MS);

afterAll(async () => {
  await rm(sourceDir, { recursive: true, force: true });
});

const relayTo = useCountingRelays();

describe("[RES-TREE] gb-client killed half way through a tree, run again", () => {
  it(
    "[RES-TREE] [RES-HAVE] goes on in the same top folder and sends only what is missing",
    async () => {
      const env = await freshEnv();
      const saveDir = await tempDir("gb-e2e-save-");
      const server = await startServer(["--no-print", "--save-dir", saveDir], { env });
      const args = (relay: CountingRelay): string[] => [
        "--host",
        "127.0.0.1",
        "--port",
        String(relay.port),
        "--file",
        root,
        "--json",
      ];

      const firstRelay = await relayTo(server.port);
      const first = await startClient(args(firstRelay), { env });
      await withTimeout(firstRelay.passed(KILL_AFTER_BYTES), RUN_MS, "half the tree to cross");
      first.child.kill("SIGKILL");
      expect((await first.result(RUN_MS)).signal).toBe("SIGKILL");
      await withTimeout(firstRelay.idle(), RUN_MS, "the first run's connection to close");

      const secondRelay = await relayTo(server.port);
      const second = await runClient(args(secondRelay), { env, timeoutMs: RUN_MS });
      expect(second.code, second.stderr).toBe(0);
      const events = jsonLines(second.stdout);
      const held = events.filter((event) => event["event"] === "stored" && event["held"] === true);
      // The first directory's files were all stored before the big file started.
      expect(held.length).toBeGreaterThanOrEqual(SMALL_FILES_PER_DIRECTORY);
      expect(held.every((event) => event["bytesPerSecond"] === 0)).toBe(true);
      const big = events.find((event) => event["event"] === "stored" && event["name"] === "m.bin");
      expect(Number(big?.["resumed"])).toBeGreaterThan(0);
      expect(events.at(-1)).toMatchObject({ event: "tree", savedAs: "photos", failed: 0 });
      expect(secondRelay.toServerBytes).toBeLessThan(TREE_BYTES * 0.6);

      // One top folder, every file whole, and no state left.
      expect((await readdir(saveDir)).sort()).toEqual([STATE_DIRECTORY, "photos"]);
      expect(await readdir(path.join(saveDir, STATE_DIRECTORY))).toEqual([]);
      const files = await filesUnder(root);
      expect(await filesUnder(path.join(saveDir, "photos"))).toEqual(files);
      for (const file of files) {
        expect(await fileSha256(path.join(saveDir, "photos", file)), file).toBe(
          await fileSha256(path.join(root, file)),
        );
      }
      await server.stop();
    },
    RUN_MS * 2,
  );
});
