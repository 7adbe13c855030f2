import { lutimes, mkdir, realpath } from "node:fs/promises";
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
export class TreePlacement {
  /** The save directory (absolute), or null when the server does not save. */
  readonly #root: string | null;
  readonly #syncDirectory: (directory: string) => Promise<void>;
  #realRoot: Promise<string> | undefined;
  readonly #open: OpenDirectory[] = [];
  #entries = 0;

  /**
   * @param root the save directory, or null when the server does not save.
   * @param syncDirectory makes the names made in a directory durable [V-GROUP].
   */
  constructor(root: string | null, syncDirectory: (directory: string) => Promise<void>) {
    this.#root = root;
    this.#syncDirectory = syncDirectory;
  }

  /**
   * [T-ORDER] [T-LIMIT] Checks that an entry with this path may come now, and closes the
   * directory a directory entry closes.
   * @throws {ProtocolError} MALFORMED_MESSAGE: the entry is out of order, or one too many.
   */
  order(kind: "file" | "dir", entryPath: readonly string[]): EntryOrder {
    const open = this.#open;
    if (open.length === 0) this.#entries = 0;
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
      return { kind, create: entryPath.slice(open.length, end), closes: undefined };
    }
    throw malformed(
      `tree entry ${entryPath.join("/")} is out of order: a directory's entries come ` +
        "depth first, before the directory's own entry",
    );
  }

  /**
   * Creates what {@link order} said is missing, and returns where the entry goes: a
   * file's directory, or the directory a directory entry stands for; null when the
   * server does not save.
   * @throws {StorageError} STORAGE_FAILED when a directory cannot be created or is no
   *   longer the one the tree created [T-NOFOLLOW].
   */
  async place(order: EntryOrder): Promise<StoredPlace | null> {
    if (order.closes !== undefined) return order.closes.stored;
    let created: StoredPlace | null = this.#innermost();
    for (const [index, component] of order.create.entries()) {
      created = await this.#makeDirectory(created, component);
      // An empty directory is closed at once; a file's parents stay open.
      const closedAtOnce = order.kind === "dir" && index === order.create.length - 1;
      if (!closedAtOnce) this.#open.push({ sent: component, stored: created });
    }
    return created;
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
  async #makeDirectory(parent: StoredPlace | null, component: string): Promise<StoredPlace | null> {
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
      try {
        await mkdir(absolute);
      } catch (error) {
        if (isErrno(error, "EEXIST")) continue;
        throw storageError(`cannot create the directory ${relative}`, error);
      }
      // The new name itself is durable before any receipt that depends on it.
      await this.#syncDirectory(parent.absolute);
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
export async function openEntry(
  item: InboundItem,
  order: EntryOrder,
  tree: TreePlacement,
  store: FileOpener | null,
): Promise<PendingFile | undefined> {
  const place = await tree.place(order);
  item.place = place;
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
