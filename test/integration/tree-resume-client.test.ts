/**
 * Resuming a whole tree end to end [RES-TREE] [RES-HAVE] [RES-JOURNAL]: a tree cut off
 * by a relay that loses the network, sent again from the same root, goes on in the same
 * top folder and sends only what is missing.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, readdir, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { SentItem } from "../../src/transfer/client.js";
import { heldEntries } from "../../src/transfer/client/held-entries.js";
import { prepareTree } from "../../src/transfer/client/prepared-item.js";
import { STATE_DIRECTORY_NAME } from "../../src/transfer/server/resume-state.js";
import type { CountingRelay } from "../support/counting-relay.js";
import {
  listDir,
  makeTempDir,
  startServer,
  useResources,
  type TestServer,
  connectClient,
  countingRelay,
} from "./helpers.js";
import { filesUnder } from "../support/files-under.js";

const resources = useResources();

const MiB = 1024 * 1024;
const BIG_BYTES = 3 * MiB;
const SMALL_FILES_PER_DIRECTORY = 150;
const SMALL_BYTES = 2000;
const OLD_MTIME_MS = Date.UTC(2022, 1, 3, 4, 5, 6, 789);

function relay(ts: TestServer, cutAfterBytes?: number): Promise<CountingRelay> {
  return countingRelay(resources, ts, cutAfterBytes);
}

/**
 * A tree of 300 small files in two directories around one 3 MiB file, which goes between
 * them ("a/…", "m.bin", "z/…"): a cut halfway falls inside it.
 */
async function makeTree(): Promise<{ root: string; bytes: number }> {
  const root = path.join(await makeTempDir(resources), "photos");
  const old = new Date(OLD_MTIME_MS);
  let bytes = 0;
  for (const directory of ["a", "z"]) {
    await mkdir(path.join(root, directory), { recursive: true });
    for (let index = 0; index < SMALL_FILES_PER_DIRECTORY; index++) {
      const file = path.join(root, directory, `f${String(index).padStart(3, "0")}.txt`);
      await writeFile(file, randomBytes(SMALL_BYTES));
      if (index % 50 === 0) await chmod(file, 0o755);
      await utimes(file, old, old);
      bytes += SMALL_BYTES;
    }
    await utimes(path.join(root, directory), old, old);
  }
  await writeFile(path.join(root, "m.bin"), randomBytes(BIG_BYTES));
  await utimes(path.join(root, "m.bin"), old, old);
  return { root, bytes: bytes + BIG_BYTES };
}

/** Sends the tree at `root` as gb-client does: what the server holds is not sent again. */
async function sendTree(
  ts: TestServer,
  via: CountingRelay,
  root: string,
  encrypted = false,
): Promise<SentItem[]> {
  const client = await connectClient(
    resources,
    via,
    encrypted ? { encryption: { key: ts.masterKey } } : {},
  );
  const plans = await heldEntries(client, await prepareTree(root)).all();
  const sent = await Promise.all(
    plans.map((plan) => ("held" in plan ? Promise.resolve(plan.held) : client.send(plan.send))),
  );
  await client.close();
  return sent;
}

describe("resuming a tree (client and server)", () => {
  it.each([false, true])(
    "[RES-TREE] [RES-HAVE] [RES-JOURNAL] a tree cut off halfway goes on in its own top folder, and only what is missing is sent (encrypted: %s)",
    async (encrypted) => {
      const ts = await startServer(resources);
      const saveDir = ts.saveDir!;
      const { root, bytes } = await makeTree();

      const cutting = await relay(ts, Math.floor(bytes / 2));
      await expect(sendTree(ts, cutting, root, encrypted)).rejects.toMatchObject({
        code: "CONNECTION_LOST",
      });
      await ts.waitNoConnections();
      const firstRun = ts.items.filter((item) => item.kind === "file").map((item) => item.savedAs);
      expect(firstRun.length).toBeGreaterThan(0);

      const counting = await relay(ts);
      const sent = await sendTree(ts, counting, root, encrypted);
      expect(sent.every((item) => item.encrypted === encrypted)).toBe(true);
      const held = sent.filter((item) => item.held === true);
      // Every file the first run stored is held, and not received a second time.
      expect(
        held.filter((item) => item.kind === "file").map((item) => item.receipt.savedAs),
      ).toEqual(firstRun);
      const received = ts.items.map((item) => item.savedAs);
      expect(new Set(received).size).toBe(received.length);
      // One top folder, and the journal gone with the tree complete.
      expect(await listDir(saveDir)).toEqual([STATE_DIRECTORY_NAME, "photos"]);
      expect(await readdir(path.join(saveDir, STATE_DIRECTORY_NAME))).toEqual([]);
      // Every file byte for byte, with its time and exec bit.
      const stored = path.join(saveDir, "photos");
      const files = await filesUnder(root);
      expect(await filesUnder(stored)).toEqual(files);
      for (const file of files) {
        const [source, copy] = [path.join(root, file), path.join(stored, file)];
        expect((await readFile(copy)).equals(await readFile(source)), file).toBe(true);
        const [sourceInfo, copyInfo] = [await stat(source), await stat(copy)];
        expect(Math.floor(copyInfo.mtimeMs)).toBe(Math.floor(sourceInfo.mtimeMs));
        expect(copyInfo.mode & 0o111).toBe(sourceInfo.mode & 0o111);
      }
      // [RES-HAVE] the second run sent what was missing (and no more than its framing).
      const big = sent.find((item) => item.name === "m.bin")!;
      const missing = sent
        .filter((item) => item.held !== true)
        .reduce((sum, item) => sum + item.bytes - (item.resumed ?? 0), 0);
      expect(counting.toServerBytes).toBeGreaterThanOrEqual(missing);
      expect(counting.toServerBytes).toBeLessThan(missing + 64 * 1024);
      expect(counting.toServerBytes).toBeLessThan(bytes * 0.75);
      expect(big.resumed ?? 0).toBeGreaterThan(0);
    },
  );

  it("[RES-JOURNAL] a tree sent to completion and sent again goes into a new top folder, whole", async () => {
    const ts = await startServer(resources);
    const root = path.join(await makeTempDir(resources), "docs");
    await mkdir(path.join(root, "sub"), { recursive: true });
    await writeFile(path.join(root, "sub", "a.txt"), "a");
    await writeFile(path.join(root, "b.txt"), "b");
    const via = await relay(ts);
    const first = await sendTree(ts, via, root);
    expect(first.at(-1)?.receipt.savedAs).toBe("docs");
    const second = await sendTree(ts, via, root);
    expect(second.filter((item) => item.held === true)).toEqual([]);
    expect(second.at(-1)?.receipt.savedAs).toBe("docs-1");
  });
});
