import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_TREE_DEPTH } from "../../src/protocol/constants.js";
import { InputFileError } from "../../src/transfer/inputs/input-file-error.js";
import { startTreeWalk, walkTree } from "../../src/transfer/inputs/walk-tree.js";

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "gb-walk-"));
  made.push(dir);
  return dir;
}

describe("walkTree", () => {
  it("[T-WALK] [T-ORDER] entries by their names' UTF-8 bytes, depth first, each directory after its contents", async () => {
    const root = path.join(await tempDir(), "top");
    await mkdir(path.join(root, "a", "empty"), { recursive: true });
    for (const name of ["z", "é", "B", "a/x"]) await writeFile(path.join(root, name), name);
    const tree = await walkTree(root);
    expect(tree.entries.map((entry) => `${entry.kind} ${entry.entry.path.join("/")}`)).toEqual([
      "file top/B",
      "dir top/a/empty",
      "file top/a/x",
      "dir top/a",
      "file top/z",
      "file top/é",
      "dir top",
    ]);
    expect(tree).toMatchObject({ name: "top", files: 4, directories: 3, bytes: 1 + 1 + 2 + 3 });
  });

  it("[T-WALK] symbolic links (to files or directories) and special files are skipped and reported, never followed", async () => {
    const outside = await tempDir();
    await writeFile(path.join(outside, "secret"), "s");
    const root = path.join(await tempDir(), "top");
    await mkdir(root);
    await writeFile(path.join(root, "real"), "r");
    await symlink(outside, path.join(root, "dir-link"));
    await symlink(path.join(outside, "secret"), path.join(root, "file-link"));
    execFileSync("mkfifo", [path.join(root, "fifo")]);
    const tree = await walkTree(root);
    expect(tree.entries.map((entry) => entry.entry.path.join("/"))).toEqual(["top/real", "top"]);
    expect(tree.skipped).toEqual([
      { path: ["top", "dir-link"], reason: "symbolic-link" },
      { path: ["top", "fifo"], reason: "special-file" },
      { path: ["top", "file-link"], reason: "symbolic-link" },
    ]);
  });

  it("the directory given may itself be a link: the user named it", async () => {
    const real = path.join(await tempDir(), "real");
    await mkdir(real);
    await writeFile(path.join(real, "f"), "f");
    const link = path.join(await tempDir(), "named");
    await symlink(real, link);
    const tree = await walkTree(link);
    expect(tree.entries.map((entry) => entry.entry.path.join("/"))).toEqual(["named/f", "named"]);
  });

  it("[T-PATH] a tree deeper than the limit is refused before anything is sent (tree-too-large)", async () => {
    const root = path.join(await tempDir(), "top");
    const deep = path.join(root, ...Array.from({ length: MAX_TREE_DEPTH }, () => "d"));
    await mkdir(deep, { recursive: true });
    const error = await walkTree(root).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputFileError);
    expect(error).toMatchObject({ code: "INPUT_UNREADABLE", reason: "tree-too-large" });
  });

  it("a directory that cannot be read is an input error", async () => {
    const error = await walkTree(path.join(await tempDir(), "missing")).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INPUT_UNREADABLE", reason: "missing" });
  });

  it("[T-MTIME] times in whole milliseconds, truncated from the nanoseconds, even a hair under the next one; before 1970, 0 and listed", async () => {
    const root = path.join(await tempDir(), "top");
    await mkdir(path.join(root, "old"), { recursive: true });
    // touch sets nanoseconds exactly: .999999999 s reads as 1000 ms more in a double.
    const times: [string, string, number][] = [
      ["under", "@1700000000.999999999", 1_700_000_000_999],
      ["whole", "@1700000000.500000000", 1_700_000_000_500],
      ["fraction", "@1700000000.123456789", 1_700_000_000_123],
      // Before 1970 a time travels as 0; half a millisecond before truncates to 0 itself.
      ["before-1970", "@-1.5", 0],
      ["long-before-1970", "@-315619200.25", 0],
      ["just-before-1970", "@-0.0005", 0],
    ];
    for (const [name, time] of times) {
      await writeFile(path.join(root, name), name);
      execFileSync("touch", ["-m", "-d", time, path.join(root, name)]);
    }
    execFileSync("touch", ["-m", "-d", "@-86400", path.join(root, "old")]);
    const tree = await walkTree(root);
    const mtimes = new Map(tree.entries.map((entry) => [entry.entry.path[1], entry.entry.mtimeMs]));
    for (const [name, , expected] of times)
      expect(Object.is(mtimes.get(name), expected)).toBe(true);
    expect(mtimes.get("old")).toBe(0);
    expect(tree.beforeEpoch).toEqual([
      ["top", "before-1970"],
      ["top", "long-before-1970"],
      ["top", "old"],
    ]);
  });

  it("[T-WALK] names past the UTF-16 surrogates sort by their UTF-8 bytes, not JavaScript's order", async () => {
    const root = path.join(await tempDir(), "top");
    await mkdir(root);
    // U+FF21 sorts after U+1F600 in UTF-16 (0xFF21 > 0xD83D) and before it in UTF-8.
    for (const name of ["\u{1F600}", "\uFF21", "a"]) await writeFile(path.join(root, name), name);
    const tree = await walkTree(root);
    expect(tree.entries.map((entry) => entry.entry.path.join("/"))).toEqual([
      "top/a",
      "top/\uFF21",
      "top/\u{1F600}",
      "top",
    ]);
  });

  it("the root may be given unnormalised (a trailing slash, a dot): its files are read all the same", async () => {
    const root = path.join(await tempDir(), "top");
    await mkdir(path.join(root, "sub"), { recursive: true });
    await writeFile(path.join(root, "sub", "f"), "f");
    const relative = path.relative(process.cwd(), root);
    for (const [given, source] of [
      [`${root}/`, path.join(root, "sub", "f")],
      [`${root}/./`, path.join(root, "sub", "f")],
      [`${root}/sub/..`, path.join(root, "sub", "f")],
      [`${relative}/sub/..`, path.join(relative, "sub", "f")],
    ]) {
      const tree = await walkTree(given ?? "");
      const file = tree.entries.find((entry) => entry.kind === "file");
      expect(file).toMatchObject({ source, size: 1 });
      expect(tree.name).toBe("top");
    }
  });

  it("the current directory given as `.` or `sub/..`: its entries' paths are their bare names, as path.join makes them", async () => {
    const root = path.join(await tempDir(), "top");
    await mkdir(path.join(root, "sub"), { recursive: true });
    await writeFile(path.join(root, "sub", "f"), "f");
    // The walk in a process of its own, started in that directory (a test cannot chdir).
    const walker = pathToFileURL(path.resolve("dist/transfer/inputs/walk-tree.js")).href;
    const script = `const { walkTree } = await import(${JSON.stringify(walker)});
      for (const given of [".", "sub/.."]) {
        const tree = await walkTree(given);
        console.log(JSON.stringify(tree.entries.map((entry) => entry.source ?? null)));
      }`;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
    });
    expect(
      output
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([
      [path.join("sub", "f"), null, null],
      [path.join("sub", "f"), null, null],
    ]);
  });

  it("[T-WALK] a name that is not UTF-8 is skipped and reported, saying why; a name with U+FFFD in it is sent", async () => {
    const root = path.join(await tempDir(), "top");
    await mkdir(root);
    await writeFile(Buffer.concat([Buffer.from(`${root}/bad`), Buffer.from([0xff, 0xfe])]), "x");
    await writeFile(path.join(root, "fine\uFFFD"), "y");
    const tree = await walkTree(root);
    expect(tree.entries.map((entry) => entry.entry.path.join("/"))).toEqual([
      "top/fine\uFFFD",
      "top",
    ]);
    expect(tree.skipped).toEqual([
      {
        path: ["top", "bad\uFFFD\uFFFD"],
        reason: "unreadable",
        detail: "its name is not valid UTF-8 (names travel as UTF-8): rename it to send it",
      },
    ]);
  });
});

/** A tree of `files` files in "a", then whatever `after` makes in it. */
async function treeOf(files: number, after?: (root: string) => Promise<void>): Promise<string> {
  const root = path.join(await tempDir(), "top");
  await mkdir(path.join(root, "a"), { recursive: true });
  for (let index = 0; index < files; index++) {
    await writeFile(path.join(root, "a", `f${String(index).padStart(4, "0")}`), "x");
  }
  await after?.(root);
  return root;
}

describe("startTreeWalk: a tree walked as it is sent", () => {
  it("[T-WALK] resolves with the first entries while the rest is still walked; more() brings the rest, in order", async () => {
    const root = await treeOf(1000);
    const walk = await startTreeWalk(root);
    expect(walk.done).toBe(false);
    const first = walk.entries.length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(1002);
    const seen = [...walk.entries];
    for (let turns = 0; !walk.done && turns < 100; turns++) await walk.more();
    expect(walk.done).toBe(true);
    // What was found first stays first: entries are only ever added.
    expect(walk.entries.slice(0, first)).toEqual(seen);
    expect(walk.entries).toEqual((await walkTree(root)).entries);
    expect(walk).toMatchObject({ files: 1000, directories: 2 });
    await expect(walk.more()).resolves.toBeUndefined();
  });

  it("[T-PATH] a limit found part way ends the walk: more() rejects (tree-too-large), the entries found before it stay", async () => {
    const root = await treeOf(600, async (top) => {
      await mkdir(path.join(top, "z", ...Array.from({ length: MAX_TREE_DEPTH }, () => "d")), {
        recursive: true,
      });
    });
    const walk = await startTreeWalk(root);
    let failure: unknown;
    for (let turns = 0; failure === undefined && turns < 100; turns++) {
      failure = await walk.more().then(
        () => (walk.done ? new Error("the walk ended without refusing the tree") : undefined),
        (error: unknown) => error,
      );
    }
    expect(failure).toBeInstanceOf(InputFileError);
    expect(failure).toMatchObject({ code: "INPUT_UNREADABLE", reason: "tree-too-large" });
    expect(walk.done).toBe(false);
    expect(walk.entries.filter((entry) => entry.kind === "file")).toHaveLength(600);
    await expect(walk.more()).rejects.toBe(failure);
  });

  it("stop() ends a walk at its next entry: nothing more is found, and more() says it was stopped", async () => {
    const root = await treeOf(3000);
    const walk = await startTreeWalk(root);
    walk.stop();
    const found = walk.entries.length;
    await expect(walk.more()).rejects.toThrow(/stopped/);
    expect(walk.done).toBe(false);
    expect(walk.entries.length).toBeLessThan(3002);
    expect(walk.entries.length - found).toBeLessThanOrEqual(1);
  });
});
