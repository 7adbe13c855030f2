import { stat } from "node:fs/promises";
import path from "node:path";
import { encodeDict, encodeJsonDictText, type DictFormat } from "../../codecs/dict-format.js";
import type { DictObject } from "../../codecs/dict-value.js";
import type { JsonObject } from "../../codecs/json-value.js";
import { fitItemName, type ItemMeta } from "../../protocol/messages.js";
import { InputFileError, inputFileError } from "../inputs/input-file-error.js";
import { readDictInput, type DictInput } from "../inputs/read-dict-input.js";
import {
  startTreeWalk,
  type TreeDirectory,
  type TreeFile,
  type WalkedTree,
  type WalkingTree,
} from "../inputs/walk-tree.js";

/** Name of a dictionary sent without one. */
export const DEFAULT_DICT_NAME = "dictionary.json";
/** Name of a dictionary read from standard input. */
export const STDIN_DICT_NAME = "stdin.json";

/** The metadata of a dictionary item. */
export type DictMeta = Extract<ItemMeta, { kind: "dict" }>;
/** The metadata of a file item. */
export type FileMeta = Extract<ItemMeta, { kind: "file" }>;
/** The metadata of a directory of a tree. */
export type DirMeta = Extract<ItemMeta, { kind: "dir" }>;

/**
 * A dictionary checked and serialized: what goes on the wire is fixed, and can be sent
 * (as often as wanted) without being looked at again.
 */
export interface PreparedDict {
  readonly origin: "memory";
  readonly meta: DictMeta;
  /** The serialized dictionary; a JSON one stays text until it is encoded into its frame. */
  readonly payload: Uint8Array | string;
}

/** A regular file, found and measured: it is opened when its turn to go out comes. */
export interface PreparedFile {
  readonly origin: "path";
  readonly meta: FileMeta & { readonly size: number };
  readonly path: string;
}

/** Bytes from a stream (standard input, a socket), sent as a file; it can be sent once. */
export interface PreparedStream {
  readonly origin: "stream";
  readonly meta: FileMeta;
  readonly source: AsyncIterable<Uint8Array>;
}

/** A directory of a tree: an item without data, sent after everything in it [T-ORDER]. */
export interface PreparedDirectory {
  readonly origin: "directory";
  readonly meta: DirMeta;
}

/**
 * An item ready to send with `GbClient.send`: every check that needs no connection is
 * done, so that a typo is found before anything is sent. Made by {@link prepareDict},
 * {@link prepareDictInput}, {@link prepareFile}, {@link prepareStream} and (the entries
 * of a tree) {@link prepareTree}.
 */
export type PreparedItem = PreparedDict | PreparedFile | PreparedStream | PreparedDirectory;

/**
 * A directory tree walked and measured (PROTOCOL.md, "Directory trees"): its entries are
 * items to send in the order given, each with its own receipt; what was left out
 * (symbolic links, special files) is listed in `skipped` [T-WALK]. One made by
 * {@link prepareTree} is complete; one made by {@link startTree} is still being walked
 * until {@link done}: its items, counts and lists grow as {@link more} resolves.
 */
export interface PreparedTree extends Omit<WalkedTree, "entries"> {
  readonly origin: "tree";
  readonly items: readonly (PreparedFile | PreparedDirectory)[];
  /** True once every entry is in `items`. */
  readonly done: boolean;
  /**
   * Resolves once `items` has more entries, or the walk ended.
   * @throws {InputFileError} what ended the walk (reason `tree-too-large`).
   */
  more(): Promise<void>;
  /** Stops a walk still going (nothing more is found); nothing to do for a complete tree. */
  stop(): void;
}

/**
 * Checks and serializes a dictionary now: later changes to `value` do not affect what
 * is sent.
 * @throws {CodecError} DICT_INVALID / DICT_TOO_DEEP / DICT_TOO_LARGE (see `encodeDict`).
 */
export function prepareDict(
  value: DictObject | JsonObject,
  options: { readonly format: DictFormat; readonly name?: string },
): PreparedDict {
  // A small JSON dictionary stays text until it is encoded straight into the frame.
  let payload: Uint8Array | string;
  let size: number;
  if (options.format === "json") {
    payload = encodeJsonDictText(value);
    size = Buffer.byteLength(payload, "utf8");
  } else {
    payload = encodeDict(value, options.format);
    size = payload.length;
  }
  const name = fitItemName(options.name ?? DEFAULT_DICT_NAME);
  return { origin: "memory", meta: { kind: "dict", format: options.format, name, size }, payload };
}

/**
 * Reads a dictionary from the JSON text of a file or of standard input (see
 * `readDictInput`), and prepares it in `format`. It is named `options.name` when given;
 * else a file's dictionary is named after the file, one from standard input
 * {@link STDIN_DICT_NAME}.
 * @throws {InputFileError} / {InputError} INPUT_UNREADABLE when it cannot be read.
 * @throws {DictInputError} DICT_INVALID, with the line and column, when the text is not a valid dictionary.
 * @throws {CodecError} when it is not a valid dictionary, or too large.
 */
export async function prepareDictInput(
  input: DictInput,
  format: DictFormat,
  options: { readonly name?: string | undefined } = {},
): Promise<PreparedDict> {
  const value = await readDictInput(input);
  const name = options.name ?? ("path" in input ? path.basename(input.path) : STDIN_DICT_NAME);
  return prepareDict(value, { format, name });
}

/**
 * Finds the file at `filePath` and takes its size, which the server will check. The
 * item is named after the file unless `options.name` is given.
 * @throws {InputFileError} INPUT_UNREADABLE when it is missing, cannot be examined, or
 *   is not a regular file (a directory, a device).
 */
export async function prepareFile(
  filePath: string,
  options: { readonly name?: string } = {},
): Promise<PreparedFile> {
  let isFile: boolean;
  let size: number;
  try {
    const info = await stat(filePath);
    isFile = info.isFile();
    size = info.size;
  } catch (error) {
    throw inputFileError(filePath, "file", error);
  }
  if (!isFile) {
    throw new InputFileError(`${filePath} is not a regular file`, {
      path: filePath,
      reason: "not-a-file",
      kind: "file",
    });
  }
  const name = fitItemName(options.name ?? path.basename(filePath));
  return { origin: "path", meta: { kind: "file", name, size }, path: filePath };
}

/**
 * Walks the directory at `dirPath` and prepares every entry of its tree [T-WALK].
 * @throws {InputFileError} INPUT_UNREADABLE when it cannot be read or is over the limits
 *   of a tree (reason `tree-too-large`).
 */
export async function prepareTree(dirPath: string): Promise<PreparedTree> {
  const tree = await startTree(dirPath);
  while (!tree.done) await tree.more();
  return tree;
}

/**
 * Starts walking the directory at `dirPath` and resolves with its tree once its first
 * entries are prepared; the walk goes on, and the tree's items grow as
 * {@link PreparedTree.more} resolves, so that the first ones can be sent meanwhile.
 * @throws {InputFileError} INPUT_UNREADABLE when it cannot be read (or its first entries
 *   are over the limits of a tree: reason `tree-too-large`).
 */
export async function startTree(dirPath: string): Promise<PreparedTree> {
  return new TreeInProgress(await startTreeWalk(dirPath));
}

/** A tree as it is walked: its entries prepared as items as they are found. */
class TreeInProgress implements PreparedTree {
  readonly origin = "tree";
  readonly items: (PreparedFile | PreparedDirectory)[] = [];
  readonly #walk: WalkingTree;

  constructor(walk: WalkingTree) {
    this.#walk = walk;
    this.#sync();
  }

  get root(): string {
    return this.#walk.root;
  }

  get name(): string {
    return this.#walk.name;
  }

  get files(): number {
    return this.#walk.files;
  }

  get directories(): number {
    return this.#walk.directories;
  }

  get bytes(): number {
    return this.#walk.bytes;
  }

  get skipped(): WalkingTree["skipped"] {
    return this.#walk.skipped;
  }

  get beforeEpoch(): WalkingTree["beforeEpoch"] {
    return this.#walk.beforeEpoch;
  }

  get done(): boolean {
    if (!this.#walk.done) return false;
    this.#sync();
    return true;
  }

  async more(): Promise<void> {
    try {
      await this.#walk.more();
    } finally {
      // What was found before a failure is the tree's too.
      this.#sync();
    }
  }

  stop(): void {
    this.#walk.stop();
  }

  /** Prepares the entries found since the last call. */
  #sync(): void {
    const entries = this.#walk.entries;
    for (let index = this.items.length; index < entries.length; index++) {
      const entry = entries[index] as TreeFile | TreeDirectory;
      const name = entry.entry.path[entry.entry.path.length - 1] ?? this.#walk.name;
      this.items.push(
        entry.kind === "dir"
          ? { origin: "directory", meta: { kind: "dir", name, size: 0, entry: entry.entry } }
          : {
              origin: "path",
              meta: { kind: "file", name, size: entry.size, entry: entry.entry },
              path: entry.source,
            },
      );
    }
  }
}

/**
 * A file as {@link prepareFile} prepares it, or a directory as {@link prepareTree} does:
 * what `gb-client --file PATH` sends.
 * @throws {InputFileError} INPUT_UNREADABLE
 */
export async function preparePath(filePath: string): Promise<PreparedFile | PreparedTree> {
  return (await isDirectory(filePath)) ? prepareTree(filePath) : prepareFile(filePath);
}

/**
 * {@link preparePath}, but a directory's tree is only started ({@link startTree}): what
 * gb-client sends, its first entries going while the rest is walked.
 * @throws {InputFileError} INPUT_UNREADABLE
 */
export async function startPath(filePath: string): Promise<PreparedFile | PreparedTree> {
  return (await isDirectory(filePath)) ? startTree(filePath) : prepareFile(filePath);
}

async function isDirectory(filePath: string): Promise<boolean> {
  try {
    return (await stat(filePath)).isDirectory();
  } catch (error) {
    throw inputFileError(filePath, "file", error);
  }
}

/**
 * Sends the bytes of `source` as a file named `options.name`. When `options.size` is
 * not null the server checks that exactly that many bytes arrive.
 */
export function prepareStream(
  source: AsyncIterable<Uint8Array>,
  options: { readonly name: string; readonly size: number | null },
): PreparedStream {
  return {
    origin: "stream",
    meta: { kind: "file", name: fitItemName(options.name), size: options.size },
    source,
  };
}
