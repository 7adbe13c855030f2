import { open, readFile, stat, unlink, type FileHandle } from "node:fs/promises";
import { MAX_HELD_FRAME_BYTES } from "../../protocol/constants.js";
import { parseControlJson, type ControlObject } from "../../protocol/control-json.js";
import { readReceiptBody, receiptToJson, type ReceiptBody } from "../../protocol/messages.js";
import { entryKey } from "../../protocol/tree-messages.js";
import type { InboundItem } from "./inbound-item.js";
import type { CommittedItem } from "./item-commit.js";
import { isErrno } from "./item-store.js";
import type { ResumeState } from "./resume-state.js";

/**
 * [RES-JOURNAL] A journal grows to this size at most: past it, nothing more is recorded
 * (the entries stored after it are sent again on a rerun), and a larger one on disk is
 * not read. It bounds what a tree's journal costs a connection in memory and on disk,
 * whatever a client makes a tree of (a million entries of 4 KiB paths would take GBs).
 */
export const MAX_JOURNAL_BYTES = 16 * 1024 * 1024;

/**
 * How long a journal's file stays open after a batch, waiting for the next one: a tree
 * being stored writes a batch every few milliseconds, and opening and closing the file
 * around each one cost two trips through the thread pool more.
 */
export const JOURNAL_IDLE_CLOSE_MS = 500;

/** How a journal opens its file: `fs.promises.open`. */
export type OpenFile = (path: string, flags: string, mode: number) => Promise<FileHandle>;

/** A directory a tree created: where, and which one it is (device and inode). */
export interface JournaledDirectory {
  /** Its path relative to the save directory. */
  readonly as: string;
  /**
   * `dev:ino` of the directory created, so that another one under its name is not it;
   * undefined for a directory only intended: the server stopped between its intent line
   * and its creation line, so that nothing of the tree was named in it.
   */
  readonly id: string | undefined;
}

/**
 * [RES-JOURNAL] What the server keeps of one tree so that the same tree sent again goes
 * on where it stopped: `<tree key>.tree` in the state directory, one JSON line per
 * event, appended (a tree of a million entries costs no rewrite): each directory the
 * tree created (`{"dir": path sent, "as": path stored}`) and each entry stored
 * (`{"entry": entry key, "receipt": its receipt}`). Lines are written in batches, and a
 * batch that holds an entry is flushed (fdatasync) before that entry's receipt goes out,
 * so that a receipt the client saw is never forgotten; entries stored together share one
 * flush. A journal that cannot be written only makes the tree start over next time: it
 * never fails an entry.
 */
export class TreeJournal {
  /** The file, or undefined when nothing is kept (a server without state). */
  readonly #file: string | undefined;
  /** Directories the tree created: path sent (as JSON text) → where, and which one. */
  readonly directories = new Map<string, JournaledDirectory>();
  /**
   * Entries stored, as read from disk: entry key → receipt. What this connection stores
   * is written, not kept: a client asks only about entries it has not sent [RES-HAVE].
   */
  readonly #entries = new Map<string, ReceiptBody>();
  /** The top folder the tree created, as stored. */
  #top: string | undefined;
  /** Bytes of the journal on disk, and queued for it. */
  #bytes = 0;
  #pending: string[] = [];
  #batch: Promise<void> | undefined;
  #tail: Promise<void> = Promise.resolve();
  /**
   * The file, kept open from one batch to the next while batches follow each other (a
   * tree being stored): closed once no batch came for {@link JOURNAL_IDLE_CLOSE_MS}, and
   * before the file is removed.
   */
  #handle: FileHandle | undefined;
  /** Closes the file once no batch came for a while. */
  #idle: NodeJS.Timeout | undefined;
  readonly #idleCloseMs: number;
  #removed = false;
  #resumed = false;
  readonly #onRemove: () => void;
  readonly #open: OpenFile;

  private constructor(
    file: string | undefined,
    onRemove: () => void,
    openFile: OpenFile,
    idleCloseMs: number,
  ) {
    this.#file = file;
    this.#onRemove = onRemove;
    this.#open = openFile;
    this.#idleCloseMs = idleCloseMs;
  }

  /**
   * Reads the journal at `file` (none yet: empty). A line that does not parse (the last
   * one, cut by a crash) is skipped: it was never flushed before a receipt.
   * @param openFile opens the file to append to it (tests count the calls).
   * @param idleCloseMs how long the file stays open after a batch, for the next one.
   */
  static async load(
    file: string | undefined,
    onRemove: () => void,
    openFile: OpenFile = open,
    idleCloseMs = JOURNAL_IDLE_CLOSE_MS,
  ): Promise<TreeJournal> {
    const journal = new TreeJournal(file, onRemove, openFile, idleCloseMs);
    if (file === undefined) return journal;
    let text = "";
    try {
      // One over the bound is not read: it is as if the tree had none [RES-JOURNAL].
      if ((await stat(file)).size > MAX_JOURNAL_BYTES) journal.restart();
      else text = await readFile(file, "utf8");
    } catch (error) {
      if (!isErrno(error, "ENOENT")) journal.#removed = true;
      return journal;
    }
    journal.#bytes = Buffer.byteLength(text, "utf8");
    for (const line of text.split("\n")) {
      if (line !== "") journal.#read(line);
    }
    journal.#resumed = !journal.empty;
    return journal;
  }

  /** The top folder the tree created, as stored; undefined before it has one. */
  get top(): JournaledDirectory | undefined {
    return this.#top === undefined ? undefined : this.directories.get(this.#top);
  }

  /**
   * True when the tree goes on from what this journal read from disk (a run of it was cut
   * off before); false for a tree that starts here, or starts over.
   */
  get resumed(): boolean {
    return this.#resumed;
  }

  /** True when the journal holds nothing. */
  get empty(): boolean {
    return this.directories.size === 0 && this.#entries.size === 0;
  }

  /** True when the journal read from disk holds an entry stored (one a HAVE may find). */
  get holdsEntries(): boolean {
    return this.#entries.size > 0;
  }

  /** The receipt of the entry `key`, if the tree stored it [RES-HAVE]. */
  held(key: string): ReceiptBody | null {
    return this.#entries.get(key) ?? null;
  }

  /**
   * Records a directory the tree created (`id`: its `dev:ino`); resolves once the line is
   * on stable storage (never rejects). Awaited before anything is named in it: a server
   * stopped dead after that finds the directory in the journal and goes on in it, rather
   * than next to it in a new one, whatever files it holds by then.
   */
  created(sentPath: readonly string[], storedPath: string, id: string): Promise<void> {
    if (!this.#recording) return Promise.resolve();
    this.#directory(sentPath, { as: storedPath, id });
    return this.#append({ dir: sentPath, as: storedPath, id });
  }

  /**
   * Records that the tree is about to create a directory under `storedPath`; resolves once
   * the line is on stable storage (never rejects). Awaited before the directory is made,
   * so that a server stopped dead between the two finds the (empty) directory it made
   * rather than making another one beside it.
   */
  intends(sentPath: readonly string[], storedPath: string): Promise<void> {
    if (!this.#recording) return Promise.resolve();
    this.#directory(sentPath, { as: storedPath, id: undefined });
    return this.#append({ dir: sentPath, as: storedPath });
  }

  /** Records an entry stored; resolves once the line is on stable storage (never rejects). */
  stored(key: string, receipt: ReceiptBody): Promise<void> {
    return this.#append({ entry: key, receipt: receiptToJson(receipt) });
  }

  /** False once nothing more is recorded: removed, unwritable, or at its bound. */
  get #recording(): boolean {
    return this.#file !== undefined && !this.#removed && this.#bytes <= MAX_JOURNAL_BYTES;
  }

  #directory(sentPath: readonly string[], directory: JournaledDirectory): void {
    const key = JSON.stringify(sentPath);
    this.directories.set(key, directory);
    if (sentPath.length === 1) this.#top = key;
  }

  /**
   * Forgets everything: the tree starts over in a new top folder (its old one is gone or
   * no longer the server's own).
   */
  restart(): void {
    this.#resumed = false;
    this.directories.clear();
    this.#entries.clear();
    this.#top = undefined;
    this.#bytes = 0;
    this.#pending = [];
    // Lines queued after this go to the new file, in a batch of their own.
    this.#batch = undefined;
    // The lines of the old top folder go; the new one's are appended to a new file.
    this.#tail = this.#tail.then(() => this.#unlink());
  }

  /** The tree is complete (its top folder stored): the journal goes. Never rejects. */
  remove(): Promise<void> {
    this.#removed = true;
    this.#pending = [];
    this.#onRemove();
    this.#tail = this.#tail.then(() => this.#unlink());
    return this.#tail;
  }

  /** Closes the file, then removes it (in the order of the batches: never rejects). */
  async #unlink(): Promise<void> {
    await this.#close();
    if (this.#file !== undefined) await unlink(this.#file).catch(() => undefined);
  }

  async #close(): Promise<void> {
    clearTimeout(this.#idle);
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  #append(line: object): Promise<void> {
    if (!this.#recording) return Promise.resolve();
    const text = `${JSON.stringify(line)}\n`;
    this.#bytes += Buffer.byteLength(text, "utf8");
    this.#pending.push(text);
    // Lines that come while a batch is being written go together in the next one. A
    // batch writes the lines queued for it only: not those queued after a restart.
    if (this.#batch === undefined) {
      const lines = this.#pending;
      this.#batch = this.#tail = this.#tail.then(() => this.#write(lines));
    }
    return this.#batch;
  }

  async #write(lines: string[]): Promise<void> {
    if (this.#pending === lines) {
      this.#pending = [];
      this.#batch = undefined;
    }
    const file = this.#file;
    const text = lines.join("");
    try {
      if (file === undefined || this.#removed || text === "") return;
      clearTimeout(this.#idle);
      this.#handle ??= await this.#open(file, "a", 0o600);
      await this.#handle.write(text);
      await this.#handle.datasync();
    } catch {
      // Not kept: the tree does not resume from here, and nothing else is affected.
      this.#removed = true;
    } finally {
      // Open for the batches that follow; closed once none comes for a while.
      if (this.#removed) await this.#close();
      else if (this.#batch === undefined && this.#handle !== undefined) this.#closeWhenIdle();
    }
  }

  /** Closes the file once no batch came for {@link JOURNAL_IDLE_CLOSE_MS} (never mid-batch). */
  #closeWhenIdle(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#tail = this.#tail.then(() => (this.#batch === undefined ? this.#close() : undefined));
    }, this.#idleCloseMs);
    // An open journal must not keep a server that is stopping alive.
    this.#idle.unref();
  }

  /** One line read from disk, checked as untrusted: anything else in it is skipped. */
  #read(line: string): void {
    let value;
    try {
      value = parseControlJson(Buffer.from(line, "utf8"), MAX_HELD_FRAME_BYTES);
    } catch {
      return;
    }
    if (!(value instanceof Map)) return;
    const record: ControlObject = value;
    const dir = record.get("dir");
    const stored = record.get("as");
    const id = record.get("id");
    if (Array.isArray(dir) && typeof stored === "string") {
      const sent: unknown[] = dir;
      const components = sent.filter((component) => typeof component === "string");
      // A line without an id is an intent [RES-JOURNAL]; a later line for the path wins.
      if ((typeof id === "string" || id === undefined) && components.length === sent.length) {
        this.#directory(components, { as: stored, id });
      }
      return;
    }
    const key = record.get("entry");
    const receipt = record.get("receipt");
    if (typeof key !== "string" || !(receipt instanceof Map)) return;
    try {
      this.#entries.set(key, readReceiptBody(receipt));
    } catch {
      // A receipt that does not check is not offered.
    }
  }
}

/**
 * The journals one connection uses, by tree key: read once, when a HAVE or the tree's
 * first entry names the tree. Without state (a server that does not save, or whose
 * state directory is not its own) every journal is empty and nothing is kept.
 */
export class TreeJournals {
  readonly #state: ResumeState | null;
  /**
   * The journal of the last tree key named, read once: a connection sends one tree at a
   * time, and a client naming one key after another (HAVE frames with random keys) must
   * not make it hold a journal for each.
   */
  #open: { readonly key: string; readonly journal: Promise<TreeJournal> } | undefined;
  /** Tree keys whose tree started on this connection (its first entry arrived). */
  readonly #started = new Set<string>();

  constructor(state: ResumeState | null) {
    this.#state = state;
  }

  /**
   * The journal of the tree `treeKey`. Never rejects.
   * @param start the tree's first entry asks (not a HAVE): a tree that already started
   *   on this connection ended with its top folder's entry, so the same key again is a
   *   new tree, sent whole, and goes into a new top folder; it gets a journal that keeps
   *   nothing (the first one's is being removed), never the first tree's folders.
   */
  journal(treeKey: string, start = false): Promise<TreeJournal> {
    if (start) {
      if (this.#started.has(treeKey)) return TreeJournal.load(undefined, () => undefined);
      this.#started.add(treeKey);
    }
    const open = this.#open;
    if (open?.key === treeKey) return open.journal;
    const state = this.#state;
    const forget = (): void => {
      if (this.#open?.key === treeKey) this.#open = undefined;
    };
    const journal = (state === null ? Promise.resolve(undefined) : state.journalFile(treeKey)).then(
      (file) => TreeJournal.load(file, forget),
    );
    this.#open = { key: treeKey, journal };
    return journal;
  }
}

/**
 * [RES-JOURNAL] An entry of a tree that resumes is journaled once stored, before its
 * receipt goes out; the top folder's own entry ends the tree, and its journal goes.
 */
export function journaled(
  item: InboundItem,
  committed: CommittedItem | Promise<CommittedItem>,
): CommittedItem | Promise<CommittedItem> {
  const journal = item.journal;
  const meta = item.meta;
  if (journal === undefined || meta.kind === "dict" || meta.entry === undefined) return committed;
  const entry = meta.entry;
  const key = entryKey(entry.path, meta.size ?? 0, entry.mtimeMs);
  return Promise.resolve(committed).then(async (done) => {
    if (meta.kind === "dir" && entry.path.length === 1) await journal.remove();
    else await journal.stored(key, done.receipt);
    return done;
  });
}
