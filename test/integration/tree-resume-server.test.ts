/**
 * The server's side of resuming a tree [RES-TREE] [RES-HAVE] [RES-JOURNAL], driven by a
 * raw client: what a HAVE is answered, what the journal keeps across connections, where
 * a resumed tree goes, and what it refuses.
 */
import { randomBytes } from "node:crypto";
import {
  appendFile,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  symlink,
  truncate,
  utimes,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import type { ItemMeta } from "../../src/protocol/messages.js";
import { decodeHeld, entryKey, type HeldMessage } from "../../src/protocol/tree-messages.js";
import { fileTimeSeconds } from "../../src/transfer/server/item-store.js";
import { STATE_DIRECTORY_NAME } from "../../src/transfer/server/resume-state.js";
import { MAX_JOURNAL_BYTES } from "../../src/transfer/server/tree-journal.js";
import {
  RawPeer,
  chunkFrames,
  cut,
  expectServerHealthy,
  frame,
  listDir,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
  startServer,
  tempFiles,
  useResources,
  type TestServer,
} from "./helpers.js";

const resources = useResources();

const MTIME_MS = Date.UTC(2021, 5, 6, 7, 8, 9, 250);

function newKey(): string {
  return randomBytes(32).toString("hex");
}

interface Entry {
  readonly path: string[];
  /** A file's data; undefined for a directory. */
  readonly data?: Buffer;
}

function metaOf(entry: Entry, tree?: string): ItemMeta {
  const name = entry.path[entry.path.length - 1] ?? "";
  const treeMember = tree === undefined ? {} : { tree };
  if (entry.data === undefined) {
    return {
      kind: "dir",
      name,
      size: 0,
      entry: { path: entry.path, mtimeMs: MTIME_MS, ...treeMember },
    };
  }
  return {
    kind: "file",
    name,
    size: entry.data.length,
    entry: { path: entry.path, mtimeMs: MTIME_MS, exec: false, ...treeMember },
  };
}

function keyOf(entry: Entry): string {
  return entryKey(entry.path, entry.data?.length ?? 0, MTIME_MS);
}

/** The frames of `entries` as items `firstId`, …; the first names the tree `tree`. */
function entryFrames(entries: readonly Entry[], firstId: number, tree?: string): Buffer {
  return Buffer.concat(
    entries.map((entry, index) =>
      Buffer.concat([
        plainItemFrame(firstId + index, metaOf(entry, index === 0 ? tree : undefined)),
        chunkFrames(entry.data === undefined ? [] : cut(entry.data)),
      ]),
    ),
  );
}

function haveFrame(tree: string, keys: readonly string[]): Buffer {
  return frame(FrameType.HAVE, Buffer.from(JSON.stringify({ tree, keys })));
}

async function connect(ts: TestServer): Promise<RawPeer> {
  const peer = await RawPeer.connect(resources, ts.port);
  await peer.write(preamble());
  return peer;
}

/** [RES-HAVE] Asks about every entry of TREE on a new connection: nothing is held. */
async function expectNothingHeld(ts: TestServer, tree: string): Promise<void> {
  const peer = await connect(ts);
  expect((await ask(peer, tree, TREE.map(keyOf))).held).toEqual(Array(5).fill(null));
  peer.end();
}

/** Sends a HAVE and resolves with its HELD. */
async function ask(peer: RawPeer, tree: string, keys: readonly string[]): Promise<HeldMessage> {
  const before = peer.frames.filter((f) => f.type === FrameType.HELD).length;
  await peer.write(haveFrame(tree, keys));
  await peer.until(
    () => peer.frames.filter((f) => f.type === FrameType.HELD).length > before,
    "a HELD",
  );
  return decodeHeld(peer.frames.filter((f) => f.type === FrameType.HELD)[before]!.payload);
}

/** Waits for `count` receipts on `peer`; resolves with where each says it was stored. */
async function savedAs(peer: RawPeer, count: number): Promise<(string | null)[]> {
  const receipts = (): Buffer[] =>
    peer.frames.filter((f) => f.type === FrameType.RECEIPT).map((f) => f.payload);
  await peer.until(() => receipts().length === count, `${count} receipts`);
  return peer.frames
    .filter((f) => f.type === FrameType.RECEIPT)
    .map((f) => readReceipt(f).body.savedAs);
}

/** Sends entries and waits for their receipts; then leaves (the tree cut where it is). */
async function sendEntries(
  ts: TestServer,
  entries: readonly Entry[],
  tree: string | undefined,
): Promise<string[]> {
  const peer = await connect(ts);
  await peer.write(entryFrames(entries, 1, tree));
  const stored = await savedAs(peer, entries.length);
  peer.end();
  await peer.closed;
  return stored.map((where) => where ?? "");
}

const A: Entry = { path: ["photos", "a.txt"], data: Buffer.from("alpha\n") };
const B: Entry = { path: ["photos", "sub", "b.txt"], data: randomBytes(70_000) };
const C: Entry = { path: ["photos", "sub", "c.txt"], data: Buffer.from("gamma\n") };
const SUB: Entry = { path: ["photos", "sub"] };
const TOP: Entry = { path: ["photos"] };
const TREE = [A, B, C, SUB, TOP];
/** More files beside a.txt, for the tests that need them. */
const D: Entry = { path: ["photos", "d.txt"], data: Buffer.from("delta\n") };
const E: Entry = { path: ["photos", "e.txt"], data: Buffer.from("epsilon\n") };
const F: Entry = { path: ["photos", "f.txt"], data: Buffer.from("phi\n") };

describe("resuming a tree (server)", () => {
  it("[RES-HAVE] [M-HELD] a HAVE for an unknown tree is answered at once, every answer null", async () => {
    const ts = await startServer(resources);
    const peer = await connect(ts);
    const keys = Array.from({ length: 200 }, () => newKey());
    const tree = newKey();
    const held = await ask(peer, tree, keys);
    // [M-HELD] and says that it holds nothing of the tree.
    expect(held).toEqual({ tree, held: Array(200).fill(null), nothing: true });
    await expectServerHealthy(resources, ts);
  });

  it("[RES-HAVE] [RES-HELD-EXPOSE] without saving, nothing is held", async () => {
    const ts = await startServer(resources, { save: false });
    const tree = newKey();
    await sendEntries(ts, [A], tree);
    const held = await ask(await connect(ts), tree, [keyOf(A)]);
    expect(held.held).toEqual([null]);
    expect(held.nothing).toBe(true);
  });

  it.each([
    [
      "201 keys",
      haveFrame(
        newKey(),
        Array.from({ length: 201 }, () => newKey()),
      ),
      "MALFORMED_MESSAGE",
    ],
    ["no keys", haveFrame(newKey(), []), "MALFORMED_MESSAGE"],
    ["bad JSON", frame(FrameType.HAVE, Buffer.from('{"tree":')), "MALFORMED_MESSAGE"],
    ["a key that is not hex(32)", haveFrame(newKey(), ["abc"]), "MALFORMED_MESSAGE"],
    [
      "mid-item",
      Buffer.concat([
        plainItemFrame(1, metaOf({ path: ["t", "x"], data: Buffer.alloc(10) })),
        frame(FrameType.CHUNK, Buffer.alloc(5)),
        haveFrame(newKey(), [newKey()]),
      ]),
      "UNEXPECTED_FRAME",
    ],
  ])(
    "[M-HAVE] a HAVE with %s ends the connection; the server stays up",
    async (_what, bytes, code) => {
      const ts = await startServer(resources);
      const peer = await connect(ts);
      await peer.write(bytes);
      await peer.closed;
      const error = peer.frames.find((f) => f.type === FrameType.ERROR);
      expect(error === undefined ? undefined : readError(error).code).toBe(code);
      await expectServerHealthy(resources, ts);
    },
  );

  it("[RES-TREE] a tree key on an entry that does not start its tree is refused", async () => {
    const ts = await startServer(resources);
    const peer = await connect(ts);
    await peer.write(Buffer.concat([entryFrames([A], 1), plainItemFrame(2, metaOf(B, newKey()))]));
    await peer.closed;
    const error = peer.frames.find((f) => f.type === FrameType.ERROR);
    expect(error === undefined ? undefined : readError(error).code).toBe("MALFORMED_MESSAGE");
  });

  it("[RES-JOURNAL] [RES-HAVE] [RES-TREE] a tree cut off goes on in its own top folder; the entries stored are held", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    expect(await sendEntries(ts, [A, B], tree)).toEqual(["photos/a.txt", "photos/sub/b.txt"]);
    const stateDir = path.join(saveDir, STATE_DIRECTORY_NAME);
    expect(await readdir(stateDir)).toEqual([`${tree}.tree`]);

    const peer = await connect(ts);
    const held = await ask(peer, tree, TREE.map(keyOf));
    expect(held.held.map((receipt) => receipt?.savedAs ?? null)).toEqual([
      "photos/a.txt",
      "photos/sub/b.txt",
      null,
      null,
      null,
    ]);
    expect(held.held[1]?.bytes).toBe(B.data?.length);
    // [M-HELD] it holds something of the tree: no "nothing", even for keys it answers null.
    expect(held.nothing).toBeUndefined();
    expect((await ask(peer, tree, [keyOf(C)])).nothing).toBeUndefined();
    // The rest, the first of it naming the tree: it goes into the same folders.
    await peer.write(entryFrames([C, SUB, TOP], 1, tree));
    expect(await savedAs(peer, 3)).toEqual(["photos/sub/c.txt", "photos/sub", "photos"]);
    expect(await listDir(saveDir)).toEqual([STATE_DIRECTORY_NAME, "photos"]);
    expect(await listDir(path.join(saveDir, "photos", "sub"))).toEqual(["b.txt", "c.txt"]);
    expect(await readFile(path.join(saveDir, "photos", "sub", "b.txt"))).toEqual(B.data);
    // [RES-JOURNAL] the tree is complete: its journal is gone.
    expect(await readdir(stateDir)).toEqual([]);
  });

  it("[RES-HAVE] a HAVE between a tree's entries (a client walking as it sends) is answered from the run before; a new tree's, all null", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    expect(await sendEntries(ts, [A, B], tree)).toEqual(["photos/a.txt", "photos/sub/b.txt"]);

    const peer = await connect(ts);
    expect((await ask(peer, tree, [keyOf(A)])).held[0]?.savedAs).toBe("photos/a.txt");
    // C goes first, naming the tree; then the client finds and asks about the rest.
    await peer.write(entryFrames([C], 1, tree));
    expect(await savedAs(peer, 1)).toEqual(["photos/sub/c.txt"]);
    const later = await ask(peer, tree, [B, SUB, TOP].map(keyOf));
    expect(later.held.map((receipt) => receipt?.savedAs ?? null)).toEqual([
      "photos/sub/b.txt",
      null,
      null,
    ]);
    await peer.write(entryFrames([SUB, TOP], 2));
    expect(await savedAs(peer, 3)).toEqual(["photos/sub/c.txt", "photos/sub", "photos"]);
    expect(await listDir(path.join(saveDir, "photos", "sub"))).toEqual(["b.txt", "c.txt"]);

    // A tree with no run before: asked between its entries, nothing is held.
    const fresh = newKey();
    await peer.write(entryFrames([{ ...D, path: ["fresh", "d.txt"] }], 4, fresh));
    expect(await savedAs(peer, 4)).toContain("fresh/d.txt");
    const nothing = await ask(peer, fresh, [keyOf({ ...E, path: ["fresh", "e.txt"] })]);
    expect(nothing.held).toEqual([null]);
    peer.end();
    await peer.closed;
    await expectServerHealthy(resources, ts);
  });

  it("[RES-HAVE] [T-NOFOLLOW] an entry removed, changed or reached through a link since it was stored is not held: it goes again", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    await sendEntries(ts, [A, D, E, B, C], tree);
    const photos = path.join(saveDir, "photos");
    // a.txt removed; d.txt cut short; sub moved away and a link to it put in its place.
    await rm(path.join(photos, "a.txt"));
    await truncate(path.join(photos, "d.txt"), 2);
    await rename(path.join(photos, "sub"), path.join(saveDir, "elsewhere"));
    await symlink(path.join(saveDir, "elsewhere"), path.join(photos, "sub"));
    const peer = await connect(ts);
    const held = await ask(peer, tree, [A, D, E, B, C].map(keyOf));
    expect(held.held.map((receipt) => receipt?.savedAs ?? null)).toEqual([
      null,
      null,
      "photos/e.txt",
      null,
      null,
    ]);
    peer.end();
    await expectServerHealthy(resources, ts);
  });

  it("[RES-JOURNAL] a file a server stopped dead had named but not journaled is taken as stored when it is exactly the entry; anything else under the name is not", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    await sendEntries(ts, [A], tree);
    // As a server stopped between naming files and journaling them leaves them: e.txt is
    // the entry exactly (bytes, time, mode); f.txt is not (other bytes).
    const photos = path.join(saveDir, "photos");
    const seconds = fileTimeSeconds(MTIME_MS);
    await writeFile(path.join(photos, "e.txt"), E.data!);
    await utimes(path.join(photos, "e.txt"), seconds, seconds);
    await writeFile(path.join(photos, "f.txt"), "not phi\n");
    await utimes(path.join(photos, "f.txt"), seconds, seconds);
    const peer = await connect(ts);
    const held = await ask(peer, tree, [A, E, F].map(keyOf));
    expect(held.held.map((receipt) => receipt?.savedAs ?? null)).toEqual([
      "photos/a.txt",
      null,
      null,
    ]);
    await peer.write(entryFrames([E, F], 1, tree));
    expect(await savedAs(peer, 2)).toEqual(["photos/e.txt", "photos/f-1.txt"]);
    peer.end();
    expect(await listDir(photos)).toEqual(["a.txt", "e.txt", "f-1.txt", "f.txt"]);
    expect(await readFile(path.join(photos, "f-1.txt"))).toEqual(F.data);
    await expectServerHealthy(resources, ts);
  });

  it("[RES-JOURNAL] a large file (over 64 KiB) a server stopped dead had named is taken as stored when its size, time, mode and SHA-256 are the entry's; one of other bytes is not", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    await sendEntries(ts, [A], tree);
    const BIG: Entry = { path: ["photos", "big.bin"], data: randomBytes(70_000) };
    const OTHER: Entry = { path: ["photos", "other.bin"], data: randomBytes(70_000) };
    const photos = path.join(saveDir, "photos");
    const seconds = fileTimeSeconds(MTIME_MS);
    await writeFile(path.join(photos, "big.bin"), BIG.data!);
    await utimes(path.join(photos, "big.bin"), seconds, seconds);
    // Same size and time, other bytes: only the digest tells them apart.
    await writeFile(path.join(photos, "other.bin"), randomBytes(70_000));
    await utimes(path.join(photos, "other.bin"), seconds, seconds);
    const peer = await connect(ts);
    await peer.write(entryFrames([BIG, OTHER], 1, tree));
    expect(await savedAs(peer, 2)).toEqual(["photos/big.bin", "photos/other-1.bin"]);
    peer.end();
    expect(await listDir(photos)).toEqual(["a.txt", "big.bin", "other-1.bin", "other.bin"]);
    expect(await readFile(path.join(photos, "big.bin"))).toEqual(BIG.data);
    expect(await readFile(path.join(photos, "other-1.bin"))).toEqual(OTHER.data);
    expect(await tempFiles(saveDir)).toEqual([]);
    await expectServerHealthy(resources, ts);
  });

  it("[RES-JOURNAL] [RES-EXPIRE] a journal survives a restart of the server, and expires as partials do", async () => {
    let ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    await sendEntries(ts, [A], tree);
    await ts.server.close(1000);
    ts = await startServer(resources, { saveDir });
    const kept = await ask(await connect(ts), tree, [keyOf(A)]);
    expect(kept.held.map((receipt) => receipt?.savedAs)).toEqual(["photos/a.txt"]);
    // Its last line a minute old, with an expiry of 30 s: removed when the server starts.
    const journal = path.join(saveDir, STATE_DIRECTORY_NAME, `${tree}.tree`);
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(journal, minuteAgo, minuteAgo);
    await ts.server.close(1000);
    ts = await startServer(resources, { saveDir, resumeExpiryMs: 30_000 });
    expect(await readdir(path.join(saveDir, STATE_DIRECTORY_NAME))).toEqual([]);
    expect((await ask(await connect(ts), tree, [keyOf(A)])).held).toEqual([null]);
  });

  it("[RES-JOURNAL] a directory made by a server stopped before its creation line: taken when it is empty, never when it holds anything", async () => {
    let ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    await sendEntries(ts, [A], tree);
    await ts.server.close(1000);
    // As a server stopped dead leaves it: the intent line is on disk, and so is the
    // directory (empty, since nothing is named in it before its creation line). Beside it,
    // an intent whose directory someone else has filled since.
    const journal = path.join(saveDir, STATE_DIRECTORY_NAME, `${tree}.tree`);
    await appendFile(
      journal,
      `${JSON.stringify({ dir: ["photos", "sub"], as: "photos/sub" })}\n` +
        `${JSON.stringify({ dir: ["photos", "other"], as: "photos/other" })}\n`,
    );
    await mkdir(path.join(saveDir, "photos", "sub"));
    await mkdir(path.join(saveDir, "photos", "other"));
    await writeFile(path.join(saveDir, "photos", "other", "theirs.txt"), "not the tree's\n");
    ts = await startServer(resources, { saveDir });
    const OTHER: Entry = { path: ["photos", "other", "o.txt"], data: Buffer.from("o\n") };
    const stored = await sendEntries(
      ts,
      [B, C, SUB, OTHER, { path: ["photos", "other"] }, TOP],
      tree,
    );
    expect(stored).toEqual([
      "photos/sub/b.txt",
      "photos/sub/c.txt",
      "photos/sub",
      "photos/other-1/o.txt",
      "photos/other-1",
      "photos",
    ]);
    expect(await listDir(path.join(saveDir, "photos"))).toEqual([
      "a.txt",
      "other",
      "other-1",
      "sub",
    ]);
    expect(await listDir(path.join(saveDir, "photos", "other"))).toEqual(["theirs.txt"]);
  });

  it("[RES-JOURNAL] a tree run to completion and sent again goes into a new top folder", async () => {
    const ts = await startServer(resources);
    const tree = newKey();
    expect(await sendEntries(ts, TREE, tree)).toContain("photos");
    await expectNothingHeld(ts, tree);
    expect(await sendEntries(ts, TREE, tree)).toContain("photos-1");
  });

  it("[RES-JOURNAL] [T-ORDER] the same tree twice on one connection: the second goes whole into a new top folder, nothing merged", async () => {
    const ts = await startServer(resources);
    const tree = newKey();
    const peer = await connect(ts);
    // Back to back: the second tree's first entry comes before the first tree's journal
    // is gone.
    await peer.write(
      Buffer.concat([entryFrames(TREE, 1, tree), entryFrames(TREE, TREE.length + 1, tree)]),
    );
    const stored = await savedAs(peer, 2 * TREE.length);
    peer.end();
    await peer.closed;
    expect(stored).toEqual([
      "photos/a.txt",
      "photos/sub/b.txt",
      "photos/sub/c.txt",
      "photos/sub",
      "photos",
      "photos-1/a.txt",
      "photos-1/sub/b.txt",
      "photos-1/sub/c.txt",
      "photos-1/sub",
      "photos-1",
    ]);
    const saveDir = ts.saveDir ?? "";
    expect(await listDir(path.join(saveDir, "photos", "sub"))).toEqual(["b.txt", "c.txt"]);
    expect(await listDir(path.join(saveDir, "photos-1", "sub"))).toEqual(["b.txt", "c.txt"]);
    await expectServerHealthy(resources, ts);
  });

  it("[T-NOFOLLOW] [RES-TREE] a journaled top folder replaced by a link starts a new top folder; nothing goes through the link", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    await sendEntries(ts, [A, B], tree);
    // The top folder moves away and a link to it takes its place.
    await rename(path.join(saveDir, "photos"), path.join(saveDir, "elsewhere"));
    await symlink(path.join(saveDir, "elsewhere"), path.join(saveDir, "photos"));
    // [RES-HAVE] nothing is held where the tree cannot go on.
    await expectNothingHeld(ts, tree);
    expect(await sendEntries(ts, [C, SUB, TOP], tree)).toEqual([
      "photos-1/sub/c.txt",
      "photos-1/sub",
      "photos-1",
    ]);
    expect(await listDir(path.join(saveDir, "elsewhere", "sub"))).toEqual(["b.txt"]);
    expect(await readdir(path.join(saveDir, STATE_DIRECTORY_NAME))).toEqual([]);
  });

  it("[RES-JOURNAL] [T-PLACE] a journaled top folder removed and made again by someone else is not reopened: a new top folder", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    await sendEntries(ts, [A, B], tree);
    // The folder goes, and another directory takes its name: not the one the tree made.
    await rename(path.join(saveDir, "photos"), path.join(saveDir, "gone"));
    await mkdir(path.join(saveDir, "photos"));
    await expectNothingHeld(ts, tree);
    expect(await sendEntries(ts, [C, SUB, TOP], tree)).toEqual([
      "photos-1/sub/c.txt",
      "photos-1/sub",
      "photos-1",
    ]);
    expect(await readdir(path.join(saveDir, "photos"))).toEqual([]);
  });

  it("[RES-JOURNAL] a journal over its bound on disk is not read: nothing is held", async () => {
    const ts = await startServer(resources);
    const saveDir = ts.saveDir!;
    const tree = newKey();
    await sendEntries(ts, [A], tree);
    const journal = path.join(saveDir, STATE_DIRECTORY_NAME, `${tree}.tree`);
    await truncate(journal, MAX_JOURNAL_BYTES + 1);
    const peer = await connect(ts);
    expect((await ask(peer, tree, [keyOf(A)])).held).toEqual([null]);
    peer.end();
  });
});
