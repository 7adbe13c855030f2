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
  /**
   * [T-MTIME] Entries modified before 1970, whose time travels as 0 (1970-01-01): the
   * protocol carries times from 1970 on. Each path top folder first.
   */
  readonly beforeEpoch: readonly (readonly string[])[];
}

/**
 * A directory tree being walked: its entries, counts and lists are what was found so far,
 * in send order, growing until {@link done}. The walk goes on between turns of the event
 * loop, so that the first entries can be sent while the rest is still being read (as
 * rsync's incremental recursion does) [T-WALK].
 */
export interface WalkingTree extends WalkedTree {
  /** True once every entry was found. */
  readonly done: boolean;
  /**
   * Resolves once more entries were found, or the walk ended.
   * @throws {InputFileError} what ended the walk: the tree breaks the limits of [T-PATH]
   *   or [T-LIMIT] (reason `tree-too-large`).
   * @throws {Error} the walk was stopped ({@link stop}).
   */
  more(): Promise<void>;
  /** Stops the walk at its next entry: nothing more is found (a run that ended early). */
  stop(): void;
}

/**
 * Starts walking the directory tree at `root` as PROTOCOL.md's [T-WALK] says (see
 * {@link walkTree}); resolves once its first entries are found, the walk going on.
 * @throws {InputFileError} INPUT_UNREADABLE when `root` cannot be read, or when its first
 *   entries break the limits of [T-PATH] or [T-LIMIT] (reason `tree-too-large`).
 */
export async function startTreeWalk(root: string): Promise<WalkingTree> {
  const name = path.basename(path.resolve(root)) || ROOT_FOLDER_NAME;
  const walk = new TreeWalk(root, name);
  const rootPath = [name];
  walk.checkPath(rootPath, 0);
  walk.run(walk.directory(root, rootPath, Buffer.byteLength(name, "utf8"), true));
  await walk.more();
  return walk;
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
  const walk = await startTreeWalk(root);
  while (!walk.done) await walk.more();
  return {
    root: walk.root,
    name: walk.name,
    entries: walk.entries,
    files: walk.files,
    directories: walk.directories,
    bytes: walk.bytes,
    skipped: walk.skipped,
    beforeEpoch: walk.beforeEpoch,
  };
}

class TreeWalk implements WalkingTree {
  readonly root: string;
  readonly name: string;
  readonly entries: (TreeFile | TreeDirectory)[] = [];
  readonly skipped: SkippedEntry[] = [];
  readonly beforeEpoch: string[][] = [];
  files = 0;
  directories = 0;
  bytes = 0;
  done = false;
  #sinceTurn = 0;
  #stopped = false;
  #failure: Error | undefined;
  /** Who waits for {@link more}: settled at the next turn the walk lets go, or its end. */
  #waiting: { readonly resolve: () => void; readonly reject: (error: Error) => void }[] = [];

  constructor(root: string, name: string) {
    this.root = root;
    this.name = name;
  }

  /** Follows the walk `walking` (its top directory): its end, or what ended it. */
  run(walking: Promise<void>): void {
    walking.then(
      () => {
        if (this.#stopped) this.#failure = new Error(`the walk of ${this.root} was stopped`);
        else this.done = true;
        this.#wake();
      },
      (error: unknown) => {
        this.#failure = error instanceof Error ? error : new Error(String(error));
        this.#wake();
      },
    );
  }

  stop(): void {
    this.#stopped = true;
  }

  more(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.done) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
    });
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    const failure = this.#failure;
    for (const { resolve, reject } of waiting) {
      if (failure === undefined) resolve();
      else reject(failure);
    }
  }

  /**
   * Adds the directory at `source`, everything in it first. `pathBytes`: the length of
   * its path in the tree, as UTF-8 with `/` between names [T-PATH].
   */
  async directory(
    source: string,
    treePath: readonly string[],
    pathBytes: number,
    isRoot: boolean,
  ): Promise<void> {
    let names: string[];
    let mtimeMs: number;
    try {
      names = readdirSync(source);
      mtimeMs = this.#fromEpoch(treePath, wholeMilliseconds(source, lstatSync(source)));
    } catch (error) {
      if (isRoot) throw inputFileError(this.root, "file", error);
      this.skipped.push({ path: treePath, reason: "unreadable", detail: describe(error) });
      return;
    }
    // A name from readdir is one component (never "." or ".."): joined as path.join would.
    const prefix = isRoot ? directoryPrefix(source) : `${source}${path.sep}`;
    const notUtf8 = namesNotUtf8(source, names);
    for (const name of byUtf8Bytes(names)) {
      if (this.#stopped) return;
      const childPath = [...treePath, name];
      const childBytes = pathBytes + 1 + this.checkPath(childPath, pathBytes + 1);
      if (notUtf8?.has(name) === true) {
        this.skipped.push({ path: childPath, reason: "unreadable", detail: NOT_UTF8 });
        continue;
      }
      await this.#entry(prefix + name, childPath, childBytes);
    }
    // A walk stopped adds nothing more: not the directories it leaves half read.
    if (this.#stopped) return;
    this.#add({ kind: "dir", entry: { path: treePath, mtimeMs } });
    this.directories++;
  }

  /**
   * [T-PATH] The limits a path must keep, checked before anything is sent: `treePath`,
   * whose parent's path takes `parentBytes` (with its trailing `/`).
   * @returns the byte length of its last name.
   */
  checkPath(treePath: readonly string[], parentBytes: number): number {
    const component = treePath[treePath.length - 1] ?? "";
    const bytes = Buffer.byteLength(component, "utf8");
    if (treePath.length > MAX_TREE_DEPTH) {
      this.#tooLarge(treePath, `deeper than ${MAX_TREE_DEPTH} levels`);
    }
    if (bytes > MAX_PATH_COMPONENT_BYTES) {
      this.#tooLarge(treePath, `a name longer than ${MAX_PATH_COMPONENT_BYTES} bytes`);
    }
    if (parentBytes + bytes > MAX_TREE_PATH_BYTES) {
      this.#tooLarge(treePath, `a path longer than ${MAX_TREE_PATH_BYTES} bytes`);
    }
    return bytes;
  }

  async #entry(source: string, treePath: readonly string[], pathBytes: number): Promise<void> {
    if (++this.#sinceTurn >= ENTRIES_PER_TURN) {
      this.#sinceTurn = 0;
      // What was found so far can go while the walk takes its turn.
      this.#wake();
      await nextTurn();
    }
    let info;
    try {
      // lstat: a link is seen as a link, never as what it points to.
      info = lstatSync(source);
    } catch (error) {
      this.skipped.push({ path: treePath, reason: "unreadable", detail: describe(error) });
      return;
    }
    if (info.isSymbolicLink()) this.skipped.push({ path: treePath, reason: "symbolic-link" });
    else if (info.isDirectory()) await this.directory(source, treePath, pathBytes, false);
    else if (!info.isFile()) this.skipped.push({ path: treePath, reason: "special-file" });
    else {
      let mtimeMs: number;
      try {
        mtimeMs = this.#fromEpoch(treePath, wholeMilliseconds(source, info));
      } catch (error) {
        this.skipped.push({ path: treePath, reason: "unreadable", detail: describe(error) });
        return;
      }
      this.#add({
        kind: "file",
        source,
        size: info.size,
        entry: { path: treePath, mtimeMs, exec: (info.mode & ANY_EXECUTE_BITS) !== 0 },
      });
      this.files++;
      this.bytes += info.size;
    }
  }

  /** [T-MTIME] A time before 1970 travels as 0, and the entry is listed in `beforeEpoch`. */
  #fromEpoch(treePath: readonly string[], mtimeMs: number): number {
    if (mtimeMs >= 0) return mtimeMs;
    this.beforeEpoch.push([...treePath]);
    return 0;
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
      `${this.root} cannot be sent as a tree: it has ${what} (at ${treePath.join("/")})`,
      { path: this.root, reason: "tree-too-large", kind: "file" },
    );
  }
}

const NS_PER_MS = 1_000_000n;

/**
 * [T-MTIME] The modification time of `info` (the lstat of `source`) in whole
 * milliseconds, as the exact nanoseconds truncated. `mtimeMs` is seconds × 1000 plus
 * nanoseconds / 10⁶ in a double, rounded: a time that is not a whole number of
 * milliseconds truncates to the right one, but one a hair under the next millisecond
 * can round up to it, and then reads as whole. A whole one is looked up again, exactly
 * (in nanoseconds): one lstat more for a file whose time is whole milliseconds (set by a
 * tool, or on a file system that keeps seconds), none for the others.
 */
function wholeMilliseconds(source: string, info: { readonly mtimeMs: number }): number {
  // (`|| 0`: a time between -1 ms and 0 truncates to -0, which is 0.)
  if (!Number.isInteger(info.mtimeMs)) return Math.trunc(info.mtimeMs) || 0;
  return Number(lstatSync(source, { bigint: true }).mtimeNs / NS_PER_MS);
}

/**
 * What goes before a name to make the path of an entry of `directory`, as `path.join`
 * would make it: the directory normalised, with one separator at its end, or nothing for
 * the current directory (`.`, `a/..`), whose entries are their bare names.
 */
function directoryPrefix(directory: string): string {
  const normalised = path.join(directory);
  if (normalised === ".") return "";
  return normalised.endsWith(path.sep) ? normalised : `${normalised}${path.sep}`;
}

/** Why an entry whose name is not UTF-8 is skipped, and what to do. */
const NOT_UTF8 = "its name is not valid UTF-8 (names travel as UTF-8): rename it to send it";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The names in `names` (read from `directory` as text) that are not valid UTF-8 on disk:
 * read as text they carry U+FFFD in place of their bytes, so that no file has that name
 * and it can be neither read nor sent as it is. Undefined when none can be (no U+FFFD).
 */
function namesNotUtf8(directory: string, names: readonly string[]): Set<string> | undefined {
  if (!names.some((name) => name.includes("\uFFFD"))) return undefined;
  const notUtf8 = new Set<string>();
  for (const raw of readdirSync(directory, { encoding: "buffer" })) {
    try {
      strictUtf8.decode(raw);
    } catch {
      notUtf8.add(raw.toString("utf8"));
    }
  }
  return notUtf8;
}

/** Characters from the first UTF-16 surrogate up: the only ones UTF-16 and UTF-8 order differently. */
const AFTER_SURROGATES = /[\ud800-\uffff]/;

/** `names` in the order of their UTF-8 bytes [T-WALK], each encoded once, not per comparison. */
function byUtf8Bytes(names: string[]): string[] {
  // Below U+D800, the order of UTF-16 code units (JavaScript's) is that of UTF-8 bytes.
  if (!names.some((name) => AFTER_SURROGATES.test(name))) return names.sort();
  return names
    .map((name) => ({ name, bytes: Buffer.from(name, "utf8") }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map(({ name }) => name);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
