/**
 * Directory trees (PROTOCOL.md, "Directory trees"): an exact round trip through GbClient,
 * collisions with what the save directory already holds, and a hostile raw client that
 * tries to write outside the save directory.
 */
import {
  chmod,
  lstat,
  mkdir,
  readFile,
  readdir,
  rename,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import { prepareTree } from "../../src/transfer/client/prepared-item.js";
import type { SentItem } from "../../src/transfer/client.js";
import {
  RawPeer,
  chunkFrames,
  connectClient,
  expectServerHealthy,
  frame,
  listDir,
  makeTempDir,
  preamble,
  readError,
  readReceipt,
  sha256,
  startServer,
  useResources,
  type TestServer,
} from "./helpers.js";

const resources = useResources();

const OLD_MTIME_MS = Date.UTC(2020, 0, 2, 3, 4, 5, 500);
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Builds a small tree under `root`/photos: nested, an empty directory, an executable. */
async function makeTree(root: string): Promise<string> {
  const top = path.join(root, "photos");
  await mkdir(path.join(top, "2024", "empty"), { recursive: true });
  await mkdir(path.join(top, "sub"));
  await writeFile(path.join(top, "a.txt"), "hello\n");
  await writeFile(path.join(top, "run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(path.join(top, "run.sh"), 0o755);
  await writeFile(path.join(top, "2024", "big.bin"), Buffer.alloc(200_000, 7));
  await writeFile(path.join(top, "sub", "z.txt"), "");
  const old = new Date(OLD_MTIME_MS);
  await utimes(path.join(top, "a.txt"), old, old);
  await utimes(path.join(top, "2024", "empty"), old, old);
  await utimes(path.join(top, "2024"), old, old);
  return top;
}

/** Every path under `dir`, relative, with its kind, content hash, exec bit and mtime. */
async function describeTree(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(path.join(dir, relative))).sort()) {
      const child = path.join(relative, name);
      const info = await lstat(path.join(dir, child), { bigint: true });
      const mtime = info.mtimeNs / 1_000_000n;
      if (info.isDirectory()) {
        await walk(child);
        found[child] = `dir ${mtime}`;
      } else {
        const exec = (info.mode & 0o100n) !== 0n ? "x" : "-";
        found[child] = `file ${exec} ${sha256(await readFile(path.join(dir, child)))} ${mtime}`;
      }
    }
  };
  await walk("");
  return found;
}

async function sendTree(ts: TestServer, top: string, encrypted: boolean): Promise<SentItem[]> {
  const tree = await prepareTree(top);
  const client = await connectClient(
    resources,
    ts,
    encrypted ? { encryption: { key: ts.masterKey } } : {},
  );
  const sent = await Promise.all(tree.items.map((item) => client.send(item)));
  await client.close();
  return sent;
}

/** Frames of one tree entry [T-ENTRY]: a file's data is `size` bytes of "x". */
function entryFrames(id: number, meta: Record<string, unknown>): Buffer {
  const size = typeof meta["size"] === "number" && meta["kind"] !== "dir" ? meta["size"] : 0;
  return Buffer.concat([
    frame(FrameType.ITEM, Buffer.from(JSON.stringify({ id, meta }))),
    chunkFrames(size === 0 ? [] : [Buffer.alloc(size, "x")]),
  ]);
}

function fileEntry(entryPath: string[], data: Buffer): Record<string, unknown> {
  return {
    kind: "file",
    name: entryPath[entryPath.length - 1],
    size: data.length,
    path: entryPath,
    mtimeMs: OLD_MTIME_MS,
    exec: false,
  };
}

function dirEntry(entryPath: string[]): Record<string, unknown> {
  return {
    kind: "dir",
    name: entryPath[entryPath.length - 1],
    size: 0,
    path: entryPath,
    mtimeMs: OLD_MTIME_MS,
  };
}

/** A plain raw client that sent its preamble and `bytes`. */
async function rawSend(ts: TestServer, bytes: Buffer): Promise<RawPeer> {
  const peer = await RawPeer.connect(resources, ts.port);
  await peer.write(Buffer.concat([preamble(), bytes]));
  return peer;
}

describe("directory trees", () => {
  it.each([false, true])(
    "[T-ENTRY] [T-ORDER] [T-MODE] [T-MTIME] a tree arrives exactly: contents, empty directories, exec bits, modification times (encrypted: %s)",
    async (encrypted) => {
      const source = await makeTempDir(resources);
      const top = await makeTree(source);
      const ts = await startServer(resources);
      const sent = await sendTree(ts, top, encrypted);
      // Each entry has its own receipt, which names where it was stored [T-PLACE].
      expect(sent.map((item) => item.receipt.savedAs)).toEqual([
        "photos/2024/big.bin",
        "photos/2024/empty",
        "photos/2024",
        "photos/a.txt",
        "photos/run.sh",
        "photos/sub/z.txt",
        "photos/sub",
        "photos",
      ]);
      expect(sent.filter((item) => item.kind === "dir").map((item) => item.sha256)).toEqual(
        Array(4).fill(EMPTY_SHA256),
      );
      const expected = await describeTree(source);
      expect(await describeTree(ts.saveDir!)).toEqual(expected);
      expect(expected["photos/run.sh"]).toMatch(/^file x /);
      expect(expected["photos/2024"]).toBe(`dir ${OLD_MTIME_MS}`);
    },
  );

  it("[T-PLACE] a top folder that exists gets the next free numbered name; nothing is added to it", async () => {
    const source = await makeTempDir(resources);
    const top = await makeTree(source);
    const ts = await startServer(resources);
    await mkdir(path.join(ts.saveDir!, "photos"));
    await writeFile(path.join(ts.saveDir!, "photos-1"), "a file in the way");
    const first = await sendTree(ts, top, false);
    const second = await sendTree(ts, top, false);
    expect(first.at(-1)?.receipt.savedAs).toBe("photos-2");
    expect(second.at(-1)?.receipt.savedAs).toBe("photos-3");
    expect(await readdir(path.join(ts.saveDir!, "photos"))).toEqual([]);
    expect(await listDir(ts.saveDir!)).toEqual(["photos", "photos-1", "photos-2", "photos-3"]);
  });

  it("[T-PLACE] components are stored by the [V-NAME] file steps; two that become one name never merge", async () => {
    const ts = await startServer(resources);
    const data = Buffer.from("x");
    const peer = await rawSend(
      ts,
      Buffer.concat([
        entryFrames(1, fileEntry(["t", "a:b", "con"], data)),
        entryFrames(2, dirEntry(["t", "a:b"])),
        entryFrames(3, fileEntry(["t", "a?b", "con"], data)),
        entryFrames(4, dirEntry(["t", "a?b"])),
        entryFrames(5, dirEntry(["t"])),
      ]),
    );
    const answers = await peer.waitAnswers(5);
    expect(answers.map((answer) => readReceipt(answer).body.savedAs)).toEqual([
      "t/a_b/_con",
      "t/a_b",
      "t/a_b-1/_con",
      "t/a_b-1",
      "t",
    ]);
  });

  it.each([
    ["..", ["t", "..", "x"]],
    [".", ["t", ".", "x"]],
    ["an absolute path", ["/etc", "passwd"]],
    ["a separator", ["t", "../../x"]],
    ["NUL", ["t", "a\u0000b"]],
    ["an empty component", ["t", "", "x"]],
    ["a component over 255 bytes", ["t", "é".repeat(128)]],
    ["over 64 levels", Array.from({ length: 65 }, (_, i) => `d${i}`)],
    ["a file outside any folder", ["x"]],
  ])(
    "[T-PATH] %s: MALFORMED_MESSAGE, the connection ends, nothing is created",
    async (_what, entryPath) => {
      const ts = await startServer(resources);
      const peer = await rawSend(ts, entryFrames(1, fileEntry(entryPath, Buffer.from("x"))));
      const error = await peer.waitError();
      expect(error).toMatchObject({ code: "MALFORMED_MESSAGE", id: undefined });
      await peer.waitClosed();
      expect(await listDir(ts.saveDir!)).toEqual([]);
      await expectServerHealthy(resources, ts);
    },
  );

  it.each([
    [
      "a dictionary with a path",
      { kind: "dict", format: "json", name: "d", size: 2, path: ["t", "d"], mtimeMs: 0 },
    ],
    ["a directory without a path", { kind: "dir", name: "t", size: 0 }],
    ["a directory with data", { ...dirEntry(["t"]), size: 1 }],
    ["a directory with exec", { ...dirEntry(["t"]), exec: true }],
    [
      "a name that is not the last component",
      { ...fileEntry(["t", "x"], Buffer.from("x")), name: "y" },
    ],
    ["a file entry without exec", { ...fileEntry(["t", "x"], Buffer.from("x")), exec: undefined }],
    ["mtimeMs on a file outside a tree", { kind: "file", name: "x", size: 1, mtimeMs: 0 }],
  ])("[T-ENTRY] %s is refused with MALFORMED_MESSAGE", async (_what, meta) => {
    const ts = await startServer(resources);
    const peer = await rawSend(ts, entryFrames(1, meta));
    expect(await peer.waitError()).toMatchObject({ code: "MALFORMED_MESSAGE", id: undefined });
    expect(await listDir(ts.saveDir!)).toEqual([]);
  });

  it.each([
    [
      "a second tree before the first is closed",
      [fileEntry(["t", "a"], Buffer.from("x")), fileEntry(["u", "a"], Buffer.from("x"))],
    ],
    [
      "leaving a directory before its own entry",
      [fileEntry(["t", "d", "a"], Buffer.from("x")), fileEntry(["t", "e", "b"], Buffer.from("x"))],
    ],
    [
      "a deeper directory's entry than the open ones",
      [fileEntry(["t", "d", "a"], Buffer.from("x")), dirEntry(["t"])],
    ],
  ])(
    "[T-ORDER] %s: MALFORMED_MESSAGE once the entries in order were answered",
    async (_what, metas) => {
      const ts = await startServer(resources);
      const bytes = metas.map((meta, index) => entryFrames(index + 1, meta));
      const peer = await rawSend(ts, Buffer.concat(bytes));
      const error = await peer.waitError((e) => e.id === undefined);
      expect(error.code).toBe("MALFORMED_MESSAGE");
      expect(peer.answers().map((answer) => answer.type)).toEqual([
        ...Array<number>(metas.length - 1).fill(FrameType.RECEIPT),
        FrameType.ERROR,
      ]);
    },
  );

  it("[T-ORDER] a path sent again after its directory closed is a new directory: nothing merges", async () => {
    const ts = await startServer(resources);
    const peer = await rawSend(
      ts,
      Buffer.concat([
        entryFrames(1, dirEntry(["t", "d"])),
        entryFrames(2, fileEntry(["t", "d", "a"], Buffer.from("x"))),
        entryFrames(3, dirEntry(["t", "d"])),
        entryFrames(4, dirEntry(["t"])),
        entryFrames(5, fileEntry(["t", "a"], Buffer.from("x"))),
        entryFrames(6, dirEntry(["t"])),
      ]),
    );
    const answers = await peer.waitAnswers(6);
    expect(answers.map((answer) => readReceipt(answer).body.savedAs)).toEqual([
      "t/d",
      "t/d-1/a",
      "t/d-1",
      "t",
      "t-1/a",
      "t-1",
    ]);
  });

  it("[T-NOFOLLOW] a symbolic link planted as the top folder is never followed", async () => {
    const ts = await startServer(resources);
    const outside = await makeTempDir(resources);
    await symlink(outside, path.join(ts.saveDir!, "t"));
    const peer = await rawSend(
      ts,
      Buffer.concat([
        entryFrames(1, fileEntry(["t", "a"], Buffer.from("x"))),
        entryFrames(2, dirEntry(["t"])),
      ]),
    );
    const answers = await peer.waitAnswers(2);
    expect(readReceipt(answers[0]!).body.savedAs).toBe("t-1/a");
    expect(await readdir(outside)).toEqual([]);
  });

  it("[T-NOFOLLOW] a directory of the tree swapped for a link mid-tree: STORAGE_FAILED, nothing written through it", async () => {
    const ts = await startServer(resources);
    const outside = await makeTempDir(resources);
    const peer = await rawSend(ts, entryFrames(1, fileEntry(["t", "d", "a"], Buffer.from("x"))));
    expect(readReceipt((await peer.waitAnswers(1))[0]!).body.savedAs).toBe("t/d/a");
    // Another process replaces the tree's directory with a link to somewhere else.
    await rename(path.join(ts.saveDir!, "t", "d"), path.join(ts.saveDir!, "moved"));
    await symlink(outside, path.join(ts.saveDir!, "t", "d"));
    await peer.write(
      Buffer.concat([
        entryFrames(2, fileEntry(["t", "d", "b"], Buffer.from("y"))),
        entryFrames(3, fileEntry(["t", "d", "e", "c"], Buffer.from("z"))),
        entryFrames(4, dirEntry(["t", "d", "e"])),
        entryFrames(5, dirEntry(["t", "d"])),
      ]),
    );
    const answers = await peer.waitAnswers(5);
    expect(answers.slice(1).map((answer) => readError(answer).code)).toEqual([
      "STORAGE_FAILED",
      "STORAGE_FAILED",
      "STORAGE_FAILED",
      "STORAGE_FAILED",
    ]);
    expect(await readdir(outside)).toEqual([]);
    // The link itself was not touched either (lutimes would have changed its own time only).
    expect((await lstat(path.join(ts.saveDir!, "t", "d"))).isSymbolicLink()).toBe(true);
    expect((await stat(outside)).isDirectory()).toBe(true);
  });
});
