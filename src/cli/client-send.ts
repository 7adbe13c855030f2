import type { DictFormat } from "../codecs/dict-format.js";
import { ErrorCode } from "../errors.js";
import { GbClient, type KeySource, type SentItem } from "../transfer/client.js";
import {
  prepareDictInput,
  preparePath,
  prepareStream,
  type PreparedItem,
} from "../transfer/client/prepared-item.js";
import { FORMAT_BY_OPTION, type ClientFlags } from "./client-flags.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { formatBytes } from "./format-bytes.js";
import { Progress } from "./progress.js";
import { resolveClientKey } from "./resolve-key.js";
import type { CommandIo, Terminal } from "./terminal.js";
import { escapeTerminalLine } from "./terminal-text.js";
import { TreeReport } from "./tree-report.js";

/** Name of a file item read from standard input. */
const STDIN_FILE_NAME = "stdin";

/**
 * An item as the user named it (its label), prepared before connecting; an entry of a
 * directory tree names its tree, and its place in it.
 */
interface PlannedItem {
  readonly label: string;
  readonly item: PreparedItem;
  readonly tree?: { readonly report: TreeReport; readonly index: number; readonly path: string };
}

/** Does what gb-client's options ask: checks every input, connects, sends, reports. */
export async function sendItems(
  flags: ClientFlags,
  io: CommandIo,
  terminal: Terminal,
): Promise<number> {
  const stdinUses = flags.file.filter((file) => file === "-").length + (flags.dict === "-" ? 1 : 0);
  if (flags.dict === undefined && flags.file.length === 0) {
    terminal.error("nothing to send: give --dict FILE and/or --file PATH");
    terminal.hint("run gb-client --help for examples");
    return ExitCode.USAGE;
  }
  if (stdinUses > 1) {
    terminal.error("standard input (-) can be used for one item only");
    terminal.hint("read the other items from files");
    return ExitCode.USAGE;
  }
  const format = FORMAT_BY_OPTION[flags.format];

  // Everything local is checked before connecting, so a typo sends nothing.
  let plan: PlannedItem[];
  let encryption: KeySource | undefined;
  const trees: TreeReport[] = [];
  try {
    plan = await planItems(flags, format, io, trees);
    if (flags.encrypt) encryption = await resolveClientKey(flags.keyFile, io.env);
  } catch (error) {
    terminal.error(error);
    return exitCodeFor(error);
  }

  let client: GbClient;
  try {
    client = await GbClient.connect({
      host: flags.host,
      port: flags.port,
      ...(encryption === undefined ? {} : { encryption }),
    });
  } catch (error) {
    terminal.error(error);
    return exitCodeFor(error);
  }

  reportSession(terminal, client, flags.json);
  for (const tree of trees) tree.reportSkipped(terminal, flags.json);
  const progress = new Progress(io.stderr, !flags.json && io.stderr.isTTY === true);
  let exitCode: number = ExitCode.OK;
  try {
    const pending = plan.map(({ label, item, tree }) => {
      // A file's size is known (not standard input's): progress shows how far along it is.
      const total = item.origin === "path" ? item.meta.size : undefined;
      return client.send(item, {
        encrypt: flags.encrypt,
        onProgress: (bytesSent: number): void => {
          if (tree === undefined) progress.update(label, bytesSent, total);
          else {
            // A tree's progress is the whole tree's: files, bytes, rate, time left.
            const done = tree.report.bytesSent(tree.index, bytesSent);
            progress.update(label, done, tree.report.tree.bytes, tree.report.detail(done));
          }
        },
      });
    });
    // Receipts are reported in the order items were given. An item's id in --json
    // output is its position in that order (1-based), whatever the wire id was.
    // A connection-wide failure reaches every pending item as the same error object:
    // it is printed once (--json still reports each item).
    const printed = new Set<unknown>();
    for (const [index, result] of pending.entries()) {
      const item = plan[index];
      if (item === undefined) continue;
      const id = index + 1;
      const tree = item.tree;
      try {
        const sent = await result;
        progress.clear();
        // A tree reports its entries in --json, and its summary once all are answered.
        if (tree === undefined) reportStored(terminal, sent, id, flags.json);
        else {
          if (flags.json) reportStored(terminal, sent, id, true, tree.path);
          if (tree.report.stored(sent)) tree.report.summarize(terminal, flags.json);
        }
      } catch (error) {
        progress.clear();
        if (flags.json || !printed.has(error)) {
          printed.add(error);
          reportFailed(terminal, tree?.path ?? item.label, id, error, flags.json);
        }
        if (exitCode === ExitCode.OK) exitCode = exitCodeFor(error);
        const kind = item.item.meta.kind === "dir" ? "dir" : "file";
        if (tree?.report.failed(kind) === true) tree.report.summarize(terminal, flags.json);
      }
    }
  } finally {
    progress.stop();
    await client.close().catch(() => undefined);
  }
  return exitCode;
}

/**
 * Prepares every item the user named, in the order they are sent: the dictionary
 * first, then the files in the order given. `-` is standard input.
 */
async function planItems(
  flags: ClientFlags,
  format: DictFormat,
  io: CommandIo,
  reports: TreeReport[],
): Promise<PlannedItem[]> {
  const stdin = io.stdin as AsyncIterable<Buffer>;
  const plan: PlannedItem[] = [];
  if (flags.dict !== undefined) {
    const input = flags.dict === "-" ? { stdin } : { path: flags.dict };
    plan.push({ label: flags.dict, item: await prepareDictInput(input, format) });
  }
  for (const file of flags.file) {
    const item =
      file === "-"
        ? prepareStream(stdin, { name: STDIN_FILE_NAME, size: null })
        : await preparePath(file);
    if (item.origin !== "tree") {
      plan.push({ label: file, item });
      continue;
    }
    // A directory: each entry of its tree is an item of its own [T-WALK].
    const report = new TreeReport(file, item);
    for (const [index, entry] of item.items.entries()) {
      plan.push({ label: file, item: entry, tree: { report, index, path: treePath(entry) } });
    }
    reports.push(report);
  }
  return plan;
}

/** An entry's path in its tree, as a user reads it. */
function treePath(item: PreparedItem): string {
  const entry = item.meta.kind === "dict" ? undefined : item.meta.entry;
  return entry === undefined ? item.meta.name : entry.path.join("/");
}

/**
 * [H-FINGERPRINT] An encrypted session's fingerprint, so that the user can compare it
 * with the one gb-server shows: a note on standard error, or with --json a `session`
 * event (first, before the items' events). A plain connection has none.
 */
function reportSession(terminal: Terminal, client: GbClient, json: boolean): void {
  const { encrypted, fingerprint } = client.session;
  if (fingerprint === null) return;
  if (json) terminal.json({ event: "session", encrypted, fingerprint });
  else terminal.note(`session encrypted · fingerprint ${fingerprint}`);
}

function reportStored(
  terminal: Terminal,
  sent: SentItem,
  id: number,
  json: boolean,
  treePath?: string,
): void {
  const receipt = sent.receipt;
  if (json) {
    terminal.json({
      event: "stored",
      id,
      kind: sent.kind,
      name: sent.name,
      ...(treePath === undefined ? {} : { path: treePath }),
      encrypted: sent.encrypted,
      bytes: sent.bytes,
      sha256: sent.sha256,
      savedAs: receipt.savedAs,
    });
    return;
  }
  const c = terminal.out;
  const where =
    receipt.savedAs === null
      ? "received (not saved)"
      : `stored as ${escapeTerminalLine(receipt.savedAs)}`;
  terminal.print(
    `${c.green("✔")} ${sent.kind} ${escapeTerminalLine(sent.name)} ${where} · ` +
      `${formatBytes(sent.bytes)}${sent.encrypted ? " · encrypted" : ""} · sha256 ${sent.sha256}`,
  );
}

function reportFailed(
  terminal: Terminal,
  label: string,
  id: number,
  error: unknown,
  json: boolean,
): void {
  if (json) {
    terminal.json({
      event: "failed",
      id,
      name: label,
      code: error instanceof Error && "code" in error ? String(error.code) : ErrorCode.INTERNAL,
      message: error instanceof Error ? error.message : String(error),
    });
    return;
  }
  terminal.error(error);
}
