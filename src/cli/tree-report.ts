import type { SentItem } from "../transfer/client.js";
import type { PreparedTree } from "../transfer/client/prepared-item.js";
import type { SkippedEntry } from "../transfer/inputs/walk-tree.js";
import { formatBytes } from "./format-bytes.js";
import type { Terminal } from "./terminal.js";
import { escapeTerminalLine } from "./terminal-text.js";

/** What a skipped entry was, in words [T-WALK]. */
const SKIP_WORDS: Readonly<Record<SkippedEntry["reason"], string>> = {
  "symbolic-link": "a symbolic link (links are not sent)",
  "special-file": "not a regular file (FIFOs, sockets and devices are not sent)",
  unreadable: "cannot be read",
};

/**
 * One directory tree given to `--file`, as it goes: progress over the whole tree (files
 * done of all, bytes, rate, time left), what each entry became, and the summary once
 * every entry is answered.
 */
export class TreeReport {
  readonly label: string;
  readonly tree: PreparedTree;
  /** Bytes of the files before each entry measured so far, in send order: where its progress starts. */
  readonly #bytesBefore: number[] = [];
  /** Bytes of the files of the entries measured so far. */
  #bytesMeasured = 0;
  /** Skipped entries, and entries before 1970, already reported. */
  #skippedReported = 0;
  #beforeEpochReported = 0;
  /**
   * [T-WALK] The tree was cut short (its walk stopped at a limit, or the connection
   * failed while it was walked): the entries planned before are all there is.
   */
  #cut = false;
  #filesDone = 0;
  #storedFiles = 0;
  #storedDirectories = 0;
  #storedBytes = 0;
  #failed = 0;
  /** [RES-HAVE] Entries a run cut off before had stored: not sent again. */
  #held = 0;
  #answered = 0;
  /** Where the top folder was stored, from the first receipt that says. */
  #storedAs: string | undefined;

  constructor(label: string, tree: PreparedTree) {
    this.label = label;
    this.tree = tree;
  }

  /**
   * Says what the walk found since the last call that will not be sent, and what goes
   * with a time other than its own, before the entries found with them are sent.
   */
  reportSkipped(terminal: Terminal, json: boolean): void {
    const beforeEpoch = this.tree.beforeEpoch;
    const skipped = this.tree.skipped;
    const firstOld = this.#beforeEpochReported;
    const firstSkipped = this.#skippedReported;
    this.#beforeEpochReported = beforeEpoch.length;
    this.#skippedReported = skipped.length;
    for (const entryPath of beforeEpoch.slice(firstOld)) {
      const where = entryPath.join("/");
      if (json) {
        terminal.json({
          event: "notice",
          tree: this.label,
          path: where,
          reason: "time-before-1970",
        });
      } else {
        terminal.warn(
          `${escapeTerminalLine(where)} was modified before 1970: it is sent with the time 1970-01-01 00:00:00 UTC (times before 1970 do not travel)`,
        );
      }
    }
    for (const entry of skipped.slice(firstSkipped)) {
      const where = entry.path.join("/");
      if (json) {
        terminal.json({ event: "skipped", tree: this.label, path: where, reason: entry.reason });
      } else {
        const detail = entry.detail === undefined ? "" : `: ${entry.detail}`;
        terminal.warn(`skipped ${escapeTerminalLine(where)}: ${SKIP_WORDS[entry.reason]}${detail}`);
      }
    }
  }

  /** The progress line's bytes, when entry `index` has sent `bytesSent`. */
  bytesSent(index: number, bytesSent: number): number {
    const items = this.tree.items;
    const before = this.#bytesBefore;
    while (before.length <= index && before.length < items.length) {
      const item = items[before.length];
      before.push(this.#bytesMeasured);
      if (item?.origin === "path") this.#bytesMeasured += item.meta.size;
    }
    return (before[index] ?? 0) + bytesSent;
  }

  /**
   * Files done of all, for the progress line (which says the bytes, rate and time left);
   * `+` while the tree is still being walked (more may come).
   */
  detail(): string {
    return `${this.#filesDone}/${this.tree.files}${this.tree.done ? "" : "+"} files`;
  }

  /** An entry was stored; true once every entry of the tree has its answer. */
  stored(sent: SentItem): boolean {
    if (sent.held === true) this.#held++;
    if (sent.kind === "dir") this.#storedDirectories++;
    else {
      this.#storedFiles++;
      this.#filesDone++;
      this.#storedBytes += sent.bytes;
    }
    const savedAs = sent.receipt.savedAs;
    if (savedAs !== null) this.#storedAs ??= savedAs.split("/")[0];
    this.#answered++;
    return this.#complete();
  }

  /** An entry failed; true once every entry of the tree has its answer. */
  failed(kind: "file" | "dir"): boolean {
    this.#failed++;
    if (kind === "file") this.#filesDone++;
    this.#answered++;
    return this.#complete();
  }

  /**
   * [T-WALK] The tree was cut short: nothing more of it is sent. True when every entry
   * sent has its answer already (the summary is due now).
   */
  cutShort(): boolean {
    this.#cut = true;
    return this.#complete();
  }

  /** Every entry there is to send was answered. */
  #complete(): boolean {
    return (this.#cut || this.tree.done) && this.#answered === this.tree.items.length;
  }

  /** The tree's summary: how many files and bytes went, and how many failed. */
  summarize(terminal: Terminal, json: boolean): void {
    if (json) {
      terminal.json({
        event: "tree",
        // [CLI-JSON-FIELDS] as for an item: its name as sent, and what the user gave.
        name: this.tree.name,
        path: this.label,
        savedAs: this.#storedAs ?? null,
        files: this.#storedFiles,
        directories: this.#storedDirectories,
        bytes: this.#storedBytes,
        failed: this.#failed,
        skipped: this.tree.skipped.length,
        held: this.#held,
        complete: !this.#cut,
      });
      return;
    }
    const c = terminal.out;
    const where = this.#storedAs === undefined ? "" : ` as ${escapeTerminalLine(this.#storedAs)}`;
    const counts =
      `${this.#storedFiles} of ${counted(this.tree.files, "file")}, ` +
      `${counted(this.#storedDirectories, "directory", "directories")}, ` +
      formatBytes(this.#storedBytes);
    const notes =
      (this.#held > 0 ? ` · ${this.#held} already stored, not sent again` : "") +
      (this.#failed > 0 ? ` · ${this.#failed} failed` : "") +
      (this.tree.skipped.length > 0 ? ` · ${this.tree.skipped.length} skipped` : "") +
      (this.#cut ? " · the rest was not sent (see the error above)" : "");
    const mark = this.#failed > 0 || this.#cut ? c.red("✘") : c.green("✔");
    terminal.print(
      `${mark} tree ${escapeTerminalLine(this.label)} stored${where} · ${counts}${notes}`,
    );
  }
}

/** `count` and the word for it, singular for one: "1 file", "3 files", "1 directory". */
function counted(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
