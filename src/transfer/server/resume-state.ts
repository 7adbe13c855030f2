import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  chmod,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  truncate,
  unlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { isErrno, storageError, type FilePlacement } from "./item-store.js";
import { ResumablePartial, type PartialRecorder } from "./resume-partial.js";

/** The server's private state directory, inside its save directory [RES-STATE]. */
export const STATE_DIRECTORY_NAME = ".gb-transfer-state";
/** [RES-BOUND] What the partials of a server may take together, by default: 4 GiB. */
export const DEFAULT_RESUME_MAX_BYTES = 4 * 1024 * 1024 * 1024;
/** [RES-EXPIRE] How long a partial is kept after its last byte, by default: 24 hours. */
export const DEFAULT_RESUME_EXPIRY_MS = 24 * 60 * 60 * 1000;
/** [RES-EXPIRE] Expired partials are looked for at least this often: hourly. */
const MAX_PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** Only the server may read or plant partials [RES-SECURITY]. */
const STATE_DIRECTORY_MODE = 0o700;
/** The group's and others' permission bits. */
const OTHERS_MODE_BITS = 0o077;
/**
 * A partial becomes the stored file: the mode of any stored file (less the umask). The
 * directory's 0700 is what keeps others out.
 */
const PARTIAL_FILE_MODE = 0o644;
/** Descriptions are the server's alone. */
const DESCRIPTION_FILE_MODE = 0o600;
/**
 * [RES-BOUND] Items smaller than this are received without state (a client asks only
 * from 1 MiB [RES-ASK]), and a partial counts at least this much against the bound: so
 * the bound caps the count of partials too (4096 in 4 GiB), not only their bytes.
 */
export const MIN_PARTIAL_BYTES = 1024 * 1024;
/** Bytes per read when the server hashes a prefix it holds [RES-OFFER]. */
const HASH_READ_BYTES = 1024 * 1024;
const PARTIAL_SUFFIX = ".part";
const DESCRIPTION_SUFFIX = ".json";
const NEW_DESCRIPTION_SUFFIX = ".json.new";
const KEY_PATTERN = /^[0-9a-f]{64}$/;
/** [RES-JOURNAL] A tree's journal: `<tree key>.tree`. */
export const JOURNAL_SUFFIX = ".tree";

/** How much the partials may take, and for how long they are kept. */
export interface ResumeSettings {
  /** [RES-BOUND] Bytes all partials together may take. */
  readonly maxBytes: number;
  /** [RES-EXPIRE] Milliseconds a partial is kept after its last byte. */
  readonly expiryMs: number;
}

/**
 * The state of the save directory `saveDir`, with `settings` or their defaults, once the
 * partials a previous run kept are read and pruned [RES-STATE] [RES-EXPIRE]; null when
 * `maxBytes` is 0 (nothing is kept).
 */
export async function openResumeState(
  saveDir: string,
  settings: { readonly maxBytes?: number | undefined; readonly expiryMs?: number | undefined },
): Promise<ResumeState | null> {
  const maxBytes = settings.maxBytes ?? DEFAULT_RESUME_MAX_BYTES;
  const expiryMs = settings.expiryMs ?? DEFAULT_RESUME_EXPIRY_MS;
  return maxBytes > 0 ? ResumeState.open(saveDir, { maxBytes, expiryMs }) : null;
}

/** A partial no item is using: its item's size, the bytes recorded, its last write. */
interface AtRest {
  readonly size: number;
  readonly bytes: number;
  readonly mtimeMs: number;
}

/** How long a second claim of a key waits for the item that holds it to end [RES-BUSY]. */
const TAKE_OVER_WAIT_MS = 5_000;

/** An item in progress that holds a key [RES-BUSY]. */
interface Holder {
  /** The size it counts against the bound [RES-BOUND]. */
  readonly size: number;
  /**
   * Ends the item's connection, keeping its partial: a later ask takes the key over.
   * Nothing once the item is complete and being stored.
   */
  takeOver: () => void;
  /** Resolves once the key is given back. */
  readonly released: Promise<void>;
  readonly release: () => void;
}

function newHolder(size: number, takeOver: () => void): Holder {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { size, takeOver, released, release };
}

/** True once `holder` gave its key back, false after `ms` (the timer never holds a process). */
function releasedWithin(holder: Holder, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, ms, false);
    timer.unref();
  });
  return Promise.race([holder.released.then(() => true), expired]).finally(() => {
    clearTimeout(timer);
  });
}

/** A key one item holds, from its OFFER until its partial ends [RES-BUSY]. */
export interface ResumeClaim {
  /** Bytes of the item the server holds and offers. */
  readonly offset: number;
  /** SHA-256 of those bytes so far, to go on with: the receipt covers the whole file. */
  readonly hash: Hash;
  /**
   * Opens the partial for the item's data, to be named `baseName` (where `placement`
   * says, for an entry of a tree) once complete. The partial gives the key back when it ends.
   * @throws {StorageError} STORAGE_FAILED
   */
  open(
    baseName: string,
    placement: FilePlacement | undefined,
    durable: boolean,
  ): Promise<ResumablePartial>;
  /** Gives the key back, its partial as it was, when no partial was opened. */
  release(): void;
}

/**
 * The partial items a server keeps so that an interrupted item can resume [RES-STATE]:
 * `<key>.part` and `<key>.json` in {@link STATE_DIRECTORY_NAME}, made when first needed.
 * It bounds their total [RES-BOUND], removes expired ones [RES-EXPIRE], and lets one item
 * at a time hold a key [RES-BUSY].
 */
export class ResumeState {
  readonly directory: string;
  readonly #settings: ResumeSettings;
  readonly #atRest = new Map<string, AtRest>();
  /** Keys held by items in progress [RES-BUSY], each with the size it counts [RES-BOUND]. */
  readonly #inUse = new Map<string, Holder>();
  #timer: NodeJS.Timeout | undefined;
  /** False when the state directory is not one the server can trust: nothing resumes. */
  #usable = true;

  private constructor(saveDir: string, settings: ResumeSettings) {
    this.directory = path.join(saveDir, STATE_DIRECTORY_NAME);
    this.#settings = settings;
  }

  /**
   * Reads the partials a previous run kept: each is cut to the bytes its description
   * records, and expired or broken ones are removed [RES-STATE] [RES-EXPIRE].
   */
  static async open(saveDir: string, settings: ResumeSettings): Promise<ResumeState> {
    const state = new ResumeState(saveDir, settings);
    await state.#scan();
    const interval = Math.max(1, Math.min(settings.expiryMs, MAX_PRUNE_INTERVAL_MS));
    state.#timer = setInterval(() => {
      void state.prune();
    }, interval);
    state.#timer.unref();
    return state;
  }

  /** Stops looking for expired partials. */
  close(): void {
    clearInterval(this.#timer);
  }

  /** Bytes the partials count against the bound [RES-BOUND]: held at rest, or reserved. */
  get usedBytes(): number {
    let used = 0;
    for (const { size } of this.#inUse.values()) used += Math.max(size, MIN_PARTIAL_BYTES);
    for (const partial of this.#atRest.values()) used += Math.max(partial.bytes, MIN_PARTIAL_BYTES);
    return used;
  }

  /**
   * [RES-EXPIRE] Removes the partials at rest whose last byte is older than the expiry,
   * and [RES-JOURNAL] the journals of trees last written before it.
   */
  async prune(now = Date.now()): Promise<void> {
    for (const [key, partial] of [...this.#atRest]) {
      if (!this.#expired(partial, now)) continue;
      this.#atRest.delete(key);
      await this.#remove(key);
    }
    const names = await readdir(this.directory).catch(() => []);
    for (const name of names) {
      if (name.endsWith(JOURNAL_SUFFIX)) await this.#pruneJournal(name, now);
    }
  }

  /**
   * [RES-JOURNAL] Where the journal of the tree `treeKey` is kept (the state directory
   * made if needed); undefined when the state directory cannot be used.
   */
  async journalFile(treeKey: string): Promise<string | undefined> {
    if (!this.#trusted()) return undefined;
    try {
      await this.#ensureDirectory();
    } catch {
      return undefined;
    }
    return this.#path(treeKey, JOURNAL_SUFFIX);
  }

  /** Removes a journal whose last line is older than the expiry. */
  async #pruneJournal(name: string, now: number): Promise<void> {
    const file = path.join(this.directory, name);
    const info = await stat(file).catch(() => undefined);
    if (info !== undefined && info.mtimeMs + this.#settings.expiryMs <= now) {
      await unlinkIfThere(file);
    }
  }

  /**
   * Claims `key` for an item of `size` bytes, and hashes what the server holds of it.
   * [RES-BUSY] A key another item holds is taken over: that item's connection is ended
   * (`takeOver` of its claim), its partial kept, and this claim goes on from it once it
   * is given back. Undefined when the item goes without state: the key was not given back
   * within {@link TAKE_OVER_WAIT_MS}, or the item does not fit the bound even once older
   * partials are evicted [RES-BOUND], or the state directory cannot be used. Never
   * throws: a partial that cannot be read is removed.
   *
   * @param takeOver ends this item's connection, should a later claim take the key over.
   */
  async claim(
    key: string,
    size: number,
    takeOver: () => void = () => undefined,
  ): Promise<ResumeClaim | undefined> {
    if (!this.#usable || size < MIN_PARTIAL_BYTES) return undefined;
    // Defence in depth: the key names files; [RES-KEY] made it 64 hex digits already.
    if (!KEY_PATTERN.test(key)) return undefined;
    const holding = this.#inUse.get(key);
    if (holding !== undefined) {
      holding.takeOver();
      if (!(await releasedWithin(holding, TAKE_OVER_WAIT_MS))) return undefined;
      // Another claim that waited too may have taken it first.
      if (this.#inUse.has(key)) return undefined;
    }
    // Reserved before any wait, so that a second connection sees the key in use.
    const holder = newHolder(size, takeOver);
    this.#inUse.set(key, holder);
    let kept = this.#atRest.get(key);
    this.#atRest.delete(key);
    try {
      if (kept !== undefined && (kept.size !== size || this.#expired(kept, Date.now()))) {
        await this.#remove(key);
        kept = undefined;
      }
      if (!(await this.#makeRoom(size))) {
        // Its files go before the key does: a claim waiting for the key makes new ones.
        if (kept !== undefined) await this.#remove(key);
        this.#giveBack(key, holder);
        return undefined;
      }
      await this.#ensureDirectory();
      const offset = kept?.bytes ?? 0;
      const hash = createHash("sha256");
      const partialPath = this.#path(key, PARTIAL_SUFFIX);
      if (offset > 0) {
        // [RES-STATE] offered only up to what the description records.
        await truncate(partialPath, offset);
        await hashPrefix(partialPath, offset, hash);
      } else await writeFile(partialPath, "", { mode: PARTIAL_FILE_MODE });
      return this.#claimed(key, holder, offset, hash);
    } catch {
      // [RES-SECURITY] nothing is removed through a state directory that is not one.
      // (#usable may have turned false across the waits above: read it through a call.)
      // Its files go before the key does: a claim waiting for the key makes new ones.
      if (this.#trusted()) await this.#remove(key).catch(() => undefined);
      this.#giveBack(key, holder);
      return undefined;
    }
  }

  /** Gives `key` back, if `holder` still holds it, to a claim waiting for it. */
  #giveBack(key: string, holder: Holder): void {
    if (this.#inUse.get(key) === holder) this.#inUse.delete(key);
    holder.release();
  }

  #claimed(key: string, holder: Holder, offset: number, hash: Hash): ResumeClaim {
    const size = holder.size;
    const recorder: PartialRecorder = {
      record: (bytes) => this.#describe(key, size, bytes),
      release: (outcome) => {
        // At rest before the key is given back: a claim waiting for it finds the partial.
        if (outcome.kept)
          this.#atRest.set(key, { size, bytes: outcome.bytes, mtimeMs: Date.now() });
        this.#giveBack(key, holder);
      },
      forget: () => unlinkIfThere(this.#path(key, DESCRIPTION_SUFFIX)),
      committing: () => {
        holder.takeOver = () => undefined;
      },
    };
    return {
      offset,
      hash,
      open: async (baseName, placement, durable) => {
        const partialPath = this.#path(key, PARTIAL_SUFFIX);
        const handle = await open(partialPath, "a", PARTIAL_FILE_MODE).catch((error: unknown) => {
          throw storageError("cannot open the partial file", error);
        });
        return new ResumablePartial(
          { path: partialPath, handle, bytes: offset },
          { directory: placement?.directory ?? path.dirname(this.directory), baseName, durable },
          placement,
          recorder,
        );
      },
      release: () => {
        recorder.release(offset > 0 ? { kept: true, bytes: offset } : { kept: false });
      },
    };
  }

  /**
   * [RES-BOUND] Evicts partials at rest, least recently written first, until `size` more
   * bytes fit (the item's own reservation is already counted). False when they cannot.
   */
  async #makeRoom(size: number): Promise<boolean> {
    const oldestFirst = [...this.#atRest].sort(([, a], [, b]) => a.mtimeMs - b.mtimeMs);
    for (const [key] of oldestFirst) {
      if (this.usedBytes <= this.#settings.maxBytes) break;
      this.#atRest.delete(key);
      await this.#remove(key);
    }
    return size <= this.#settings.maxBytes && this.usedBytes <= this.#settings.maxBytes;
  }

  /**
   * [RES-STATE] Records that `bytes` of the partial are on stable storage: a new
   * description renamed over the old one, so that a crash leaves one or the other.
   */
  async #describe(key: string, size: number, bytes: number): Promise<void> {
    const fresh = this.#path(key, NEW_DESCRIPTION_SUFFIX);
    try {
      await writeFile(fresh, JSON.stringify({ size, bytes }), { mode: DESCRIPTION_FILE_MODE });
      await rename(fresh, this.#path(key, DESCRIPTION_SUFFIX));
    } catch (error) {
      throw storageError("cannot record the partial file", error);
    }
  }

  /** Reads what a previous run left; anything it cannot vouch for is removed. */
  async #scan(): Promise<void> {
    let names: string[];
    try {
      await this.#checkDirectory();
      names = await readdir(this.directory);
    } catch (error) {
      if (!isErrno(error, "ENOENT")) this.#usable = false;
      return;
    }
    const now = Date.now();
    const keys = new Set<string>();
    for (const name of names) {
      const key = name.slice(0, 64);
      const suffix = name.slice(64);
      if (KEY_PATTERN.test(key) && (suffix === PARTIAL_SUFFIX || suffix === DESCRIPTION_SUFFIX)) {
        keys.add(key);
      } else if (KEY_PATTERN.test(key) && suffix === JOURNAL_SUFFIX) {
        await this.#pruneJournal(name, now);
      } else await unlinkIfThere(path.join(this.directory, name));
    }
    for (const key of keys) {
      const partial = await this.#readPartial(key);
      if (partial === undefined || this.#expired(partial, now)) await this.#remove(key);
      else this.#atRest.set(key, partial);
    }
  }

  /** A partial as its description records it, cut to that length; undefined if broken. */
  async #readPartial(key: string): Promise<AtRest | undefined> {
    try {
      const description: unknown = JSON.parse(
        await readFile(this.#path(key, DESCRIPTION_SUFFIX), "utf8"),
      );
      const size = memberCount(description, "size");
      const bytes = memberCount(description, "bytes");
      const partialPath = this.#path(key, PARTIAL_SUFFIX);
      const info = await stat(partialPath);
      if (size === undefined || bytes === undefined || bytes > size || info.size < bytes) {
        return undefined;
      }
      if (info.size > bytes) await truncate(partialPath, bytes);
      return { size, bytes, mtimeMs: info.mtimeMs };
    } catch {
      return undefined;
    }
  }

  #trusted(): boolean {
    return this.#usable;
  }

  #expired(partial: AtRest, now: number): boolean {
    return partial.mtimeMs + this.#settings.expiryMs <= now;
  }

  /** Makes the state directory, mode 0700, and checks it is one (no link followed). */
  async #ensureDirectory(): Promise<void> {
    try {
      await mkdir(this.directory, { mode: STATE_DIRECTORY_MODE });
    } catch (error) {
      if (!isErrno(error, "EEXIST")) throw error;
    }
    await this.#checkDirectory();
  }

  /**
   * [RES-SECURITY] The state directory must be a directory of the server's own, not a
   * link to somewhere else nor someone else's; it is made 0700 if it was opened wider.
   * Otherwise nothing resumes.
   * @throws when it is not (ENOENT when it is missing).
   */
  async #checkDirectory(): Promise<void> {
    const info = await lstat(this.directory);
    const owner = process.getuid?.();
    if (!info.isDirectory() || (owner !== undefined && info.uid !== owner)) {
      this.#usable = false;
      throw storageError("the state directory is not the server's own", this.directory);
    }
    if ((info.mode & OTHERS_MODE_BITS) !== 0) {
      await chmod(this.directory, STATE_DIRECTORY_MODE).catch((error: unknown) => {
        this.#usable = false;
        throw error;
      });
    }
  }

  async #remove(key: string): Promise<void> {
    await unlinkIfThere(this.#path(key, DESCRIPTION_SUFFIX));
    await unlinkIfThere(this.#path(key, PARTIAL_SUFFIX));
  }

  #path(key: string, suffix: string): string {
    return path.join(this.directory, `${key}${suffix}`);
  }
}

/** Feeds the first `bytes` bytes of the file at `file` to `hash`. */
async function hashPrefix(file: string, bytes: number, hash: Hash): Promise<void> {
  let read = 0;
  const stream = createReadStream(file, {
    start: 0,
    end: bytes - 1,
    highWaterMark: HASH_READ_BYTES,
  });
  for await (const piece of stream) {
    if (!(piece instanceof Buffer)) throw new TypeError("a partial file read as text");
    hash.update(piece);
    read += piece.length;
  }
  if (read !== bytes) throw new RangeError(`the partial file holds ${read} of ${bytes} bytes`);
}

/** A non-negative safe integer member of a JSON value read from disk, or undefined. */
function memberCount(value: unknown, member: string): number | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const count: unknown = Reflect.get(value, member);
  return typeof count === "number" && Number.isSafeInteger(count) && count >= 0 ? count : undefined;
}

async function unlinkIfThere(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}
