import { lstat, lutimes, mkdir, readdir, realpath } from "node:fs/promises";
import type { ReceiptBody } from "../../protocol/messages.js";
import path from "node:path";
import { ErrorCode, ProtocolError, StorageError } from "../../errors.js";
import { MAX_TREE_ENTRIES, MAX_TREE_PATH_BYTES } from "../../protocol/constants.js";
import type { InboundItem } from "./inbound-item.js";
import {
  fileTimeSeconds,
  isErrno,
  storageError,
  type FilePlacement,
  type PendingFile,
} from "./item-store.js";
import { candidateName, MAX_NAME_ATTEMPTS, safeName } from "./safe-name.js";
import { TreeJournals, type TreeJournal } from "./tree-journal.js";

/** {@link TreePlacement.placedNow}: the place needs work first ({@link TreePlacement.place}). */
export const NOT_NOW: unique symbol = Symbol("not now");

/** A directory on disk that a tree created. */
export interface StoredPlace {
  /** Its absolute path. */
  readonly absolute: string;
  /** Its path relative to the save directory, components joined by `/` [T-PLACE]. */
  readonly relative: string;
}

/** A directory of the tree being received that is still open [T-ORDER]. */
interface OpenDirectory {
  /** Its component as the client sent it. */
  readonly sent: string;
  /** Where it is on disk; null on a server that does not save. */
  readonly stored: StoredPlace | null;
}

/** What an entry needs before it can be stored, decided when its ITEM arrives. */
export interface EntryOrder {
  readonly kind: "file" | "dir";
  /**
   * The components of the directories to create, in order, each inside the one before
   * (the first inside the innermost open directory, or the save directory). For a file
   * its missing parents, which stay open; for an empty directory the directory itself,
   * closed at once.
   */
  readonly create: readonly string[];
  /** The open directory a directory entry closes; it exists already. */
  readonly closes: OpenDirectory | undefined;
  /** [RES-TREE] The tree key of an entry that starts a tree and names one. */
  readonly tree?: string;
}

/**
 * Maps the entries of the trees one connection sends to directories under the save
 * directory (PROTOCOL.md, "Directory trees"): it keeps the tree's open directories
 * [T-ORDER], counts its entries [T-LIMIT], creates every directory itself under a free
 * numbered safe name [T-PLACE], and checks a directory is still its own before anything
 * is created in it [T-NOFOLLOW].
 *
 * Entries are handled one at a time, in order: the session waits for {@link place} before
 * it reads the next ITEM.
 */
/**
 * [T-BATCH] The order of a file that goes into the innermost open directory, as the files
 * of a batch after its first do: nothing to create, nothing closed.
 */
export const IN_OPEN_DIRECTORY: EntryOrder = { kind: "file", create: [], closes: undefined };

export class TreePlacement {
  /** The save directory (absolute), or null when the server does not save. */
  readonly #root: string | null;
  readonly #syncDirectory: (directory: string) => Promise<void>;
  #realRoot: Promise<string> | undefined;
  readonly #open: OpenDirectory[] = [];
  #entries = 0;
  readonly #journals: TreeJournals;
  /** [RES-JOURNAL] The journal of the tree being received, when it named one. */
  #journal: TreeJournal | undefined;
  /** Paths sent of the directories this tree has made or reopened: never reopened again. */
  readonly #made = new Set<string>();

  /**
   * @param root the save directory, or null when the server does not save.
   * @param syncDirectory makes the names made in a directory durable [V-GROUP].
   * @param journals the journals of trees that resume [RES-JOURNAL].
   */
  constructor(
    root: string | null,
    syncDirectory: (directory: string) => Promise<void>,
    journals: TreeJournals = new TreeJournals(null),
  ) {
    this.#root = root;
    this.#syncDirectory = syncDirectory;
    this.#journals = journals;
  }

  /** The journal of the tree being received, if it resumes [RES-JOURNAL]. */
  get journal(): TreeJournal | undefined {
    return this.#journal;
  }

  /**
   * [T-ORDER] [T-LIMIT] Checks that an entry with this path may come now, and closes the
   * directory a directory entry closes.
   * @throws {ProtocolError} MALFORMED_MESSAGE: the entry is out of order, or one too many.
   */
  order(kind: "file" | "dir", entryPath: readonly string[], tree?: string): EntryOrder {
    const open = this.#open;
    if (open.length === 0) this.#entries = 0;
    // [RES-TREE] only the entry that starts a tree names it.
    if (tree !== undefined && open.length > 0) {
      throw malformed(`tree entry ${entryPath.join("/")} names its tree but does not start it`);
    }
    if (++this.#entries > MAX_TREE_ENTRIES) {
      throw malformed(`a tree has more than ${MAX_TREE_ENTRIES} entries`);
    }
    const parentLength = entryPath.length - 1;
    const prefixOpen = open.every((directory, index) => directory.sent === entryPath[index]);
    if (kind === "dir" && open.length === entryPath.length && prefixOpen) {
      // Everything in the directory has come: its own entry closes it.
      return { kind, create: [], closes: open.pop() };
    }
    if (open.length <= parentLength && prefixOpen) {
      // A file's missing parents are opened; so are a directory's, and the directory
      // itself is created and closed at once (it is empty, or its entries went first).
      const end = kind === "dir" ? entryPath.length : parentLength;
      const create = entryPath.slice(open.length, end);
      return tree === undefined
        ? { kind, create, closes: undefined }
        : { kind, create, closes: undefined, tree };
    }
    throw malformed(
      `tree entry ${entryPath.join("/")} is out of order: a directory's entries come ` +
        "depth first, before the directory's own entry",
    );
  }

  /**
   * [T-BATCH] [T-LIMIT] Counts `count` more file entries in the directory the entry just
   * ordered goes into (the rest of a batch).
   * @throws {ProtocolError} MALFORMED_MESSAGE: one too many entries.
   */
  more(count: number): void {
    this.#entries += count;
    if (this.#entries > MAX_TREE_ENTRIES) {
      throw malformed(`a tree has more than ${MAX_TREE_ENTRIES} entries`);
    }
  }

  /**
   * Creates what {@link order} said is missing, and returns where the entry goes: a
   * file's directory, or the directory a directory entry stands for; null when the
   * server does not save.
   * @throws {StorageError} STORAGE_FAILED when a directory cannot be created or is no
   *   longer the one the tree created [T-NOFOLLOW].
   */
  async place(order: EntryOrder): Promise<StoredPlace | null> {
    const now = this.placedNow(order);
    if (now !== NOT_NOW) return now;
    if (this.#open.length === 0) {
      // A tree starts: [RES-JOURNAL] with its journal when it names itself.
      this.#made.clear();
      this.#journal =
        order.tree === undefined ? undefined : await this.#journals.journal(order.tree, true);
    }
    const sent = this.#open.map((directory) => directory.sent);
    let created: StoredPlace | null = this.#innermost();
    for (const [index, component] of order.create.entries()) {
      sent.push(component);
      created =
        (await this.#reopen(created, sent)) ??
        (await this.#makeDirectory(created, component, sent));
      // An empty directory is closed at once; a file's parents stay open.
      const closedAtOnce = order.kind === "dir" && index === order.create.length - 1;
      if (!closedAtOnce) this.#open.push({ sent: component, stored: created });
    }
    return created;
  }

  /**
   * {@link place}'s answer at once, when there is nothing to create or load (an entry in
   * a directory already open, or a directory closing); {@link NOT_NOW} otherwise.
   */
  placedNow(order: EntryOrder): StoredPlace | null | typeof NOT_NOW {
    if (order.closes !== undefined) return order.closes.stored;
    if (this.#open.length === 0 || order.create.length > 0) return NOT_NOW;
    return this.#innermost();
  }

  /**
   * [T-MTIME] Sets a closed directory's modification time, once everything in it is
   * stored. `lutimes` changes a link planted in its place, never what it points to.
   * @throws {StorageError} STORAGE_FAILED
   */
  async finishDirectory(place: StoredPlace, mtimeMs: number): Promise<void> {
    try {
      await this.check(place);
      const mtime = fileTimeSeconds(mtimeMs);
      await lutimes(place.absolute, mtime, mtime);
      // What was named in it, and its time, are durable before its receipt.
      await this.#syncDirectory(place.absolute);
    } catch (error) {
      throw error instanceof StorageError
        ? error
        : storageError("cannot finish the directory", error);
    }
  }

  /**
   * [T-NOFOLLOW] Checks that `place` is still the directory the tree created: its real
   * path is where it was created, so neither it nor a directory above it is a link.
   * @throws {StorageError} STORAGE_FAILED
   */
  /**
   * [RES-HAVE] Whether what a held receipt says was stored is still there as stored: a
   * regular file of its size (a directory, for a directory's), reached without a link on
   * the way [T-NOFOLLOW]. A receipt whose entry was removed, replaced or moved since is
   * not held: the entry is sent again.
   * @param realDirectories the real paths of directories looked up already for the same
   *   answer (the entries of a HAVE share a few directories), by path.
   */
  async stillStored(
    receipt: ReceiptBody,
    realDirectories: Map<string, Promise<string>>,
  ): Promise<boolean> {
    const savedAs = receipt.savedAs;
    if (this.#root === null || savedAs === null) return false;
    const relative = savedAs.split("/");
    const absolute = path.join(this.#root, ...relative);
    try {
      const info = await lstat(absolute);
      const kept =
        receipt.kind === "dir" ? info.isDirectory() : info.isFile() && info.size === receipt.bytes;
      if (!kept) return false;
      // The parent's real path is where the receipt says only if no component is a link.
      this.#realRoot ??= realpath(this.#root);
      const parent = path.join(await this.#realRoot, ...relative.slice(0, -1));
      const directory = path.dirname(absolute);
      let real = realDirectories.get(directory);
      if (real === undefined) {
        real = realpath(directory);
        realDirectories.set(directory, real);
      }
      return (await real) === parent;
    } catch {
      return false;
    }
  }

  async check(place: StoredPlace): Promise<void> {
    const root = this.#root;
    if (root === null) return;
    this.#realRoot ??= realpath(root);
    const expected = path.join(await this.#realRoot, ...place.relative.split("/"));
    // The real path is the one created only if no component is a link: a link resolves
    // to its target, never to itself. (A file put in its place fails the link() after.)
    let real: string;
    try {
      real = await realpath(place.absolute);
    } catch (error) {
      throw storageError(`cannot check the directory ${place.relative}`, error);
    }
    if (real !== expected) {
      throw new StorageError(
        ErrorCode.STORAGE_FAILED,
        `${place.relative} is no longer the directory this tree created (a link or another ` +
          "entry took its place); nothing is written through it",
      );
    }
  }

  /**
   * [RES-HAVE] [RES-TREE] Whether the journal's top folder can be reopened (a directory of
   * the server's own, [T-NOFOLLOW]). When it cannot, the journal is emptied: the tree
   * starts over in a new top folder, and nothing of it is held, so that a client never
   * skips an entry that is not where the tree goes on.
   */
  async reopens(journal: TreeJournal): Promise<boolean> {
    const root = this.#root;
    const top = journal.top;
    if (journal.empty) return false;
    if (
      root !== null &&
      top !== undefined &&
      (await this.#isOwnDirectory(root, "", top.as, top.id))
    ) {
      return true;
    }
    journal.restart();
    return false;
  }

  /**
   * Whether `name` in `parent` is a directory this tree may reopen: the very directory it
   * created (`id`, its `dev:ino`: another one made under its name since is not it,
   * [T-PLACE]), still where it was created [T-NOFOLLOW].
   */
  async #isOwnDirectory(
    parentAbsolute: string,
    parentRelative: string,
    name: string,
    id: string | undefined,
  ): Promise<boolean> {
    if (name === "" || name === "." || name === ".." || name.includes("/")) return false;
    const relative = parentRelative === "" ? name : `${parentRelative}/${name}`;
    const place = { absolute: path.join(parentAbsolute, name), relative };
    try {
      const info = await lstat(place.absolute, { bigint: true });
      if (!info.isDirectory()) return false;
      if (id !== undefined && directoryId(info) !== id) return false;
      await this.check(place);
      // [RES-JOURNAL] only intended: the tree named nothing in it, so it is empty if it is
      // the one the server made; one that holds anything is not taken.
      if (id === undefined && (await readdir(place.absolute)).length > 0) return false;
      return true;
    } catch {
      return false;
    }
  }

  /**
   * [RES-TREE] The directory the tree's journal says it created for `sent`, when it is
   * still a directory of the server's own [T-NOFOLLOW], not reopened before in this tree;
   * otherwise undefined (it is created anew). A top folder that cannot be reopened
   * starts the tree over: its journal is emptied.
   */
  async #reopen(
    parent: StoredPlace | null,
    sent: readonly string[],
  ): Promise<StoredPlace | undefined> {
    const journal = this.#journal;
    const root = this.#root;
    const key = JSON.stringify(sent);
    if (journal === undefined || root === null || parent === null || this.#made.has(key)) {
      return undefined;
    }
    const directory = journal.directories.get(key);
    const relative = directory?.as;
    const name = relative === undefined ? "" : path.posix.basename(relative);
    // The journal is the server's own, but a line is checked like anything read back.
    const expected = parent.relative === "" ? name : `${parent.relative}/${name}`;
    if (
      directory !== undefined &&
      relative === expected &&
      (await this.#isOwnDirectory(parent.absolute, parent.relative, name, directory.id))
    ) {
      this.#made.add(key);
      const absolute = path.join(parent.absolute, name);
      if (directory.id === undefined) {
        // Only intended until now: its creation line goes before anything is named in it.
        const info = await lstat(absolute, { bigint: true }).catch(() => undefined);
        if (info !== undefined) await journal.created(sent, relative, directoryId(info));
      }
      return { absolute, relative };
    }
    if (sent.length === 1) journal.restart();
    return undefined;
  }

  /** The innermost open directory, or the save directory itself; null when not saving. */
  #innermost(): StoredPlace | null {
    const root = this.#root;
    if (root === null) return null;
    return this.#open.at(-1)?.stored ?? { absolute: root, relative: "" };
  }

  /**
   * [T-PLACE] Creates the directory for `component` in `parent` under the first free
   * numbered safe name; mkdir never reuses or follows what is there.
   */
  async #makeDirectory(
    parent: StoredPlace | null,
    component: string,
    sent: readonly string[],
  ): Promise<StoredPlace | null> {
    if (parent === null) return null;
    if (parent.relative !== "") await this.check(parent);
    const baseName = safeName(component, "file");
    for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
      const name = candidateName(baseName, attempt);
      const relative = parent.relative === "" ? name : `${parent.relative}/${name}`;
      if (Buffer.byteLength(relative, "utf8") > MAX_TREE_PATH_BYTES) {
        throw new StorageError(
          ErrorCode.STORAGE_FAILED,
          `the stored path would be longer than ${MAX_TREE_PATH_BYTES} bytes`,
        );
      }
      const absolute = path.join(parent.absolute, name);
      // [RES-JOURNAL] the intent first: a server stopped right after the mkdir finds it.
      const journal = this.#journal;
      if (journal !== undefined) await journal.intends(sent, relative);
      try {
        await mkdir(absolute);
      } catch (error) {
        if (isErrno(error, "EEXIST")) continue;
        throw storageError(`cannot create the directory ${relative}`, error);
      }
      // The new name itself is durable before any receipt that depends on it.
      await this.#syncDirectory(parent.absolute);
      this.#made.add(JSON.stringify(sent));
      // A directory that cannot be told apart later is not journaled: not reopened.
      const info = journal && (await lstat(absolute, { bigint: true }).catch(() => undefined));
      if (journal !== undefined && info !== undefined) {
        await journal.created(sent, relative, directoryId(info));
      }
      return { absolute, relative };
    }
    throw new StorageError(ErrorCode.STORAGE_FAILED, `no free name for the directory ${baseName}`);
  }
}

/**
 * Opens an entry of a tree whose order was checked: creates the directories it needs
 * and, for a file on a server that saves, returns the file its data is to be written
 * to, placed in its directory with its mode and time [T-PLACE] [T-MODE] [T-MTIME].
 * @throws {RefusedError} BUSY when the process is out of file descriptors.
 * @throws {StorageError} STORAGE_FAILED
 */
export function openEntry(
  item: InboundItem,
  order: EntryOrder,
  tree: TreePlacement,
  store: FileOpener | null,
): Promise<PendingFile | undefined> | undefined {
  const now = tree.placedNow(order);
  // Most entries go into a directory already open: nothing to wait for.
  if (now !== NOT_NOW) return openPlaced(item, now, tree, store);
  return tree.place(order).then((place) => openPlaced(item, place, tree, store));
}

function openPlaced(
  item: InboundItem,
  place: StoredPlace | null,
  tree: TreePlacement,
  store: FileOpener | null,
): Promise<PendingFile | undefined> | undefined {
  item.place = place;
  item.journal = tree.journal;
  const meta = item.meta;
  if (meta.kind !== "file" || meta.entry === undefined || store === null || item.holdsFile) {
    return undefined;
  }
  return store.begin(
    safeName(meta.name, "file"),
    place === null
      ? undefined
      : {
          directory: place.absolute,
          relative: place.relative,
          check: () => tree.check(place),
          exec: meta.entry.exec,
          mtimeMs: meta.entry.mtimeMs,
        },
  );
}

/**
 * What makes a received file: the store, or [RES-TREE] the exchange of an entry that
 * asked to resume (which makes none when the server does not save).
 */
export interface FileOpener {
  begin(baseName: string, placement?: FilePlacement): Promise<PendingFile | undefined>;
}

function malformed(what: string): ProtocolError {
  return new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `malformed message: ${what}`);
}

/** A directory's identity, `dev:ino`, as the journal records it [RES-JOURNAL]. */
function directoryId(info: { readonly dev: bigint; readonly ino: bigint }): string {
  return `${info.dev}:${info.ino}`;
}
