import { lstatSync, readdirSync } from "node:fs";
import { setImmediate as nextTurn } from "node:timers/promises";
import path from "node:path";
import {
  MAX_PATH_COMPONENT_BYTES,
  MAX_TREE_DEPTH,
  MAX_TREE_ENTRIES,
  MAX_TREE_PATH_BYTES,
} from "../../protocol/constants.js";
import type { DirEntry, FileEntry } from "../../protocol/messages.js";
import { InputFileError, inputFileError } from "./input-file-error.js";

/** Any execute bit: a file its owner, group or others may run is sent as executable [T-MODE]. */
const ANY_EXECUTE_BITS = 0o111;

/**
 * Entries looked at between two turns of the event loop, at most. The walk's calls are
 * synchronous (a `lstat` through libuv's thread pool costs many times the call itself,
 * and a tree has thousands), so it lets the loop hear Ctrl-C between batches.
 */
const ENTRIES_PER_TURN = 256;

/** The name a top folder gets when the directory given has none (the file system's root). */
const ROOT_FOLDER_NAME = "root";

/** A file of a tree: where to read it, and its entry [T-ENTRY]. */
export interface TreeFile {
  readonly kind: "file";
  /** The path to read it from. */
  readonly source: string;
  readonly size: number;
  readonly entry: FileEntry;
}

/** A directory of a tree, sent after everything in it [T-ORDER]. */
export interface TreeDirectory {
  readonly kind: "dir";
  readonly entry: DirEntry;
}

/** Why an entry of the tree is not sent [T-WALK]. */
export type SkipReason = "symbolic-link" | "special-file" | "unreadable";

/** An entry of the tree that is not sent, and why. */
export interface SkippedEntry {
  /** Its path in the tree, top folder first. */
  readonly path: readonly string[];
  readonly reason: SkipReason;
  /** What the file system said, for `unreadable`. */
  readonly detail?: string;
}

/** A directory tree as it will be sent: its entries in order, and what was left out. */
export interface WalkedTree {
  /** The directory as it was given. */
  readonly root: string;
  /** The top folder's name: the directory's own name. */
  readonly name: string;
  /** Files and directories, depth first, each directory after its contents [T-ORDER]. */
  readonly entries: readonly (TreeFile | TreeDirectory)[];
  readonly files: number;
  readonly directories: number;
  /** Bytes of all the files together. */
  readonly bytes: number;
  readonly skipped: readonly SkippedEntry[];
}

/**
 * Walks the directory tree at `root` as PROTOCOL.md's [T-WALK] says: symbolic links are
 * never followed (a link inside the tree is skipped and reported, and so is a special
 * file), a directory's entries go in the order of their names' UTF-8 bytes, depth first,
 * each directory after what it holds. `root` itself may be a link to a directory: the
 * user named it.
 *
 * @throws {InputFileError} INPUT_UNREADABLE when `root` cannot be read, or when the tree
 *   breaks the limits of [T-PATH] or [T-LIMIT] (reason `tree-too-large`): then nothing
 *   of it should be sent.
 */
export async function walkTree(root: string): Promise<WalkedTree> {
  const name = path.basename(path.resolve(root)) || ROOT_FOLDER_NAME;
  const walk = new TreeWalk(root);
  walk.checkComponent([name]);
  await walk.directory(root, [name], true);
  return {
    root,
    name,
    entries: walk.entries,
    files: walk.files,
    directories: walk.directories,
    bytes: walk.bytes,
    skipped: walk.skipped,
  };
}

class TreeWalk {
  readonly #root: string;
  readonly entries: (TreeFile | TreeDirectory)[] = [];
  readonly skipped: SkippedEntry[] = [];
  files = 0;
  directories = 0;
  bytes = 0;
  #sinceTurn = 0;

  constructor(root: string) {
    this.#root = root;
  }

  /** Adds the directory at `source`, everything in it first. */
  async directory(source: string, treePath: readonly string[], isRoot: boolean): Promise<void> {
    let names: string[];
    let mtimeMs: number;
    try {
      names = readdirSync(source);
      mtimeMs = wholeMilliseconds(lstatSync(source, { bigint: true }).mtimeNs);
    } catch (error) {
      if (isRoot) throw inputFileError(this.#root, "file", error);
      this.skipped.push({ path: treePath, reason: "unreadable", detail: describe(error) });
      return;
    }
    for (const name of byUtf8Bytes(names)) {
      const childPath = [...treePath, name];
      this.checkComponent(childPath);
      await this.#entry(path.join(source, name), childPath);
    }
    this.#add({ kind: "dir", entry: { path: treePath, mtimeMs } });
    this.directories++;
  }

  /** [T-PATH] The limits a path must keep, checked before anything is sent. */
  checkComponent(treePath: readonly string[]): void {
    const component = treePath[treePath.length - 1] ?? "";
    let total = treePath.length - 1;
    for (const part of treePath) total += Buffer.byteLength(part, "utf8");
    if (treePath.length > MAX_TREE_DEPTH) {
      this.#tooLarge(treePath, `deeper than ${MAX_TREE_DEPTH} levels`);
    }
    if (Buffer.byteLength(component, "utf8") > MAX_PATH_COMPONENT_BYTES) {
      this.#tooLarge(treePath, `a name longer than ${MAX_PATH_COMPONENT_BYTES} bytes`);
    }
    if (total > MAX_TREE_PATH_BYTES) {
      this.#tooLarge(treePath, `a path longer than ${MAX_TREE_PATH_BYTES} bytes`);
    }
  }

  async #entry(source: string, treePath: readonly string[]): Promise<void> {
    if (++this.#sinceTurn >= ENTRIES_PER_TURN) {
      this.#sinceTurn = 0;
      await nextTurn();
    }
    let info;
    try {
      // lstat: a link is seen as a link, never as what it points to.
      info = lstatSync(source, { bigint: true });
    } catch (error) {
      this.skipped.push({ path: treePath, reason: "unreadable", detail: describe(error) });
      return;
    }
    if (info.isSymbolicLink()) this.skipped.push({ path: treePath, reason: "symbolic-link" });
    else if (info.isDirectory()) await this.directory(source, treePath, false);
    else if (!info.isFile()) this.skipped.push({ path: treePath, reason: "special-file" });
    else {
      this.#add({
        kind: "file",
        source,
        size: Number(info.size),
        entry: {
          path: treePath,
          mtimeMs: wholeMilliseconds(info.mtimeNs),
          exec: (info.mode & BigInt(ANY_EXECUTE_BITS)) !== 0n,
        },
      });
      this.files++;
      this.bytes += Number(info.size);
    }
  }

  #add(entry: TreeFile | TreeDirectory): void {
    // [T-LIMIT]
    if (this.entries.length >= MAX_TREE_ENTRIES) {
      this.#tooLarge(entry.entry.path, `more than ${MAX_TREE_ENTRIES} entries`);
    }
    this.entries.push(entry);
  }

  #tooLarge(treePath: readonly string[], what: string): never {
    throw new InputFileError(
      `${this.#root} cannot be sent as a tree: it has ${what} (at ${treePath.join("/")})`,
      { path: this.#root, reason: "tree-too-large", kind: "file" },
    );
  }
}

const NS_PER_MS = 1_000_000n;

/**
 * [T-MTIME] A time in whole milliseconds, from the exact nanoseconds (a float
 * `mtimeMs` can be a hair under the millisecond it stands for).
 */
function wholeMilliseconds(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}

/** `names` in the order of their UTF-8 bytes [T-WALK], each encoded once, not per comparison. */
function byUtf8Bytes(names: readonly string[]): string[] {
  return names
    .map((name) => ({ name, bytes: Buffer.from(name, "utf8") }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map(({ name }) => name);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
