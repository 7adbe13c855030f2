import { open, readFile, unlink } from "node:fs/promises";
import { MAX_HELD_FRAME_BYTES } from "../../protocol/constants.js";
import { parseControlJson, type ControlObject } from "../../protocol/control-json.js";
import { readReceiptBody, receiptToJson, type ReceiptBody } from "../../protocol/messages.js";
import { entryKey } from "../../protocol/tree-messages.js";
import type { InboundItem } from "./inbound-item.js";
import type { CommittedItem } from "./item-commit.js";
import { isErrno } from "./item-store.js";
import type { ResumeState } from "./resume-state.js";

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
  /** Directories the tree created: path sent (as JSON text) → path stored. */
  readonly directories = new Map<string, string>();
  /** Entries stored: entry key → receipt. */
  readonly #entries = new Map<string, ReceiptBody>();
  #pending: string[] = [];
  #batch: Promise<void> | undefined;
  #tail: Promise<void> = Promise.resolve();
  #removed = false;
  readonly #onRemove: () => void;

  private constructor(file: string | undefined, onRemove: () => void) {
    this.#file = file;
    this.#onRemove = onRemove;
  }

  /**
   * Reads the journal at `file` (none yet: empty). A line that does not parse (the last
   * one, cut by a crash) is skipped: it was never flushed before a receipt.
   */
  static async load(file: string | undefined, onRemove: () => void): Promise<TreeJournal> {
    const journal = new TreeJournal(file, onRemove);
    if (file === undefined) return journal;
    let text = "";
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if (!isErrno(error, "ENOENT")) journal.#removed = true;
      return journal;
    }
    for (const line of text.split("\n")) {
      if (line !== "") journal.#read(line);
    }
    return journal;
  }

  /** The top folder the tree created, as stored; undefined before it has one. */
  get top(): string | undefined {
    for (const [sent, stored] of this.directories) {
      const components: unknown = JSON.parse(sent);
      if (Array.isArray(components) && components.length === 1) return stored;
    }
    return undefined;
  }

  /** True when the journal holds nothing. */
  get empty(): boolean {
    return this.directories.size === 0 && this.#entries.size === 0;
  }

  /** The receipt of the entry `key`, if the tree stored it [RES-HAVE]. */
  held(key: string): ReceiptBody | null {
    return this.#entries.get(key) ?? null;
  }

  /** Records a directory the tree created; flushed with the next entry. */
  created(sentPath: readonly string[], storedPath: string): void {
    this.directories.set(JSON.stringify(sentPath), storedPath);
    void this.#append({ dir: sentPath, as: storedPath });
  }

  /** Records an entry stored; resolves once the line is on stable storage (never rejects). */
  stored(key: string, receipt: ReceiptBody): Promise<void> {
    this.#entries.set(key, receipt);
    return this.#append({ entry: key, receipt: receiptToJson(receipt) });
  }

  /**
   * Forgets everything: the tree starts over in a new top folder (its old one is gone or
   * no longer the server's own).
   */
  restart(): void {
    this.directories.clear();
    this.#entries.clear();
    this.#pending = [];
    // The lines of the old top folder go; the new one's are appended to a new file.
    const file = this.#file;
    this.#tail = this.#tail.then(async () => {
      if (file !== undefined) await unlink(file).catch(() => undefined);
    });
  }

  /** The tree is complete (its top folder stored): the journal goes. Never rejects. */
  remove(): Promise<void> {
    this.#removed = true;
    this.#pending = [];
    this.#onRemove();
    const file = this.#file;
    this.#tail = this.#tail.then(async () => {
      if (file !== undefined) await unlink(file).catch(() => undefined);
    });
    return this.#tail;
  }

  #append(line: object): Promise<void> {
    if (this.#file === undefined || this.#removed) return Promise.resolve();
    this.#pending.push(`${JSON.stringify(line)}\n`);
    // Lines that come while a batch is being written go together in the next one.
    this.#batch ??= this.#tail = this.#tail.then(() => this.#write());
    return this.#batch;
  }

  async #write(): Promise<void> {
    this.#batch = undefined;
    const file = this.#file;
    const text = this.#pending.join("");
    this.#pending = [];
    if (file === undefined || this.#removed || text === "") return;
    try {
      const handle = await open(file, "a", 0o600);
      try {
        await handle.write(text);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch {
      // Not kept: the tree does not resume from here, and nothing else is affected.
      this.#removed = true;
    }
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
    if (Array.isArray(dir) && typeof stored === "string") {
      const sent: unknown[] = dir;
      if (sent.every((component) => typeof component === "string")) {
        this.directories.set(JSON.stringify(sent), stored);
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
  readonly #open = new Map<string, Promise<TreeJournal>>();

  constructor(state: ResumeState | null) {
    this.#state = state;
  }

  /** The journal of the tree `treeKey`. Never rejects. */
  journal(treeKey: string): Promise<TreeJournal> {
    let journal = this.#open.get(treeKey);
    if (journal === undefined) {
      const state = this.#state;
      const forget = (): void => {
        this.#open.delete(treeKey);
      };
      journal = (state === null ? Promise.resolve(undefined) : state.journalFile(treeKey)).then(
        (file) => TreeJournal.load(file, forget),
      );
      this.#open.set(treeKey, journal);
    }
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
    const { kind, name, bytes, sha256, savedAs } = done.received;
    if (meta.kind === "dir" && entry.path.length === 1) await journal.remove();
    else await journal.stored(key, { kind, name, bytes, sha256, savedAs });
    return done;
  });
}
