import type { DictFormat } from "../codecs/dict-format.js";
import { ErrorCode, GbError, toGbError } from "../errors.js";
import { GbClient, type KeySource, type SentItem } from "../transfer/client.js";
import { handled } from "../transfer/client/item-slot.js";
import {
  prepareDictInput,
  prepareStream,
  startPath,
  type PreparedItem,
} from "../transfer/client/prepared-item.js";
import { chooseEncryption, type EncryptionChoice } from "./client-encryption.js";
import { FORMAT_BY_OPTION, type ClientFlags } from "./client-flags.js";
import { resolveClientHost, type ClientHost } from "./client-host.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { formatBytes } from "./format-bytes.js";
import { PLAINTEXT_REFUSED_HINT } from "./hints.js";
import { hostPort } from "./host-option.js";
import { PASSPHRASE_ENV } from "./passphrase-env.js";
import { ProgressEvents, type ItemProgress } from "./progress-events.js";
import { INTERRUPTED, Interruption } from "./interruption.js";
import { Progress } from "./progress.js";
import { resolveClientKey } from "./resolve-key.js";
import type { CommandIo, Terminal } from "./terminal.js";
import { escapeTerminalLine } from "./terminal-text.js";
import {
  PlanFeed,
  SendPlan,
  type ItemFate,
  type PlanInput,
  type PlannedItem,
} from "./send-plan.js";
import { BatchPlan } from "../transfer/client/batch-sender.js";
import { MAX_BATCH_FILES } from "../protocol/batch-messages.js";
import { TreeReport } from "./tree-report.js";
import { PlanCut } from "./plan-cut.js";
import { reportFailed, reportSession, reportStored } from "./item-report.js";

/**
 * Items handed to the connection ahead of the oldest one awaiting its receipt, at most:
 * enough to keep the connection busy (the server holds at most 256 small items
 * committing at once), few enough that a tree's items do not all exist at once.
 */
const SEND_WINDOW = 1024;

/** Name of a file item read from standard input. */
const STDIN_FILE_NAME = "stdin";

/**
 * Does what gb-client's options ask: checks every input, connects, sends, reports.
 * When `signal` aborts (Ctrl-C), whatever it is doing stops at once: the connection is
 * dropped, so the server discards the item it was receiving, and the exit code is 130.
 */
export async function sendItems(
  flags: ClientFlags,
  io: CommandIo,
  terminal: Terminal,
  signal: AbortSignal,
): Promise<number> {
  const interruption = new Interruption(signal);
  const trees: TreeReport[] = [];
  try {
    return await sendAll(flags, io, terminal, interruption, trees);
  } finally {
    interruption.release();
    // A tree still being walked (the run ended before all of it went) stops being walked.
    for (const report of trees) report.tree.stop();
  }
}

/**
 * {@link sendItems}, every wait raced against `interruption`; the trees it starts walking
 * go to `trees`.
 */
async function sendAll(
  flags: ClientFlags,
  io: CommandIo,
  terminal: Terminal,
  interruption: Interruption,
  trees: TreeReport[],
): Promise<number> {
  const usage = usageError(flags);
  if (usage !== undefined) {
    terminal.error(usage.error);
    terminal.hint(usage.hint);
    return ExitCode.USAGE;
  }
  const format = FORMAT_BY_OPTION[flags.format ?? "json"];

  // Everything local is checked before connecting, so a typo sends nothing; a tree is
  // walked as it is sent [T-WALK].
  let inputs: PlanInput[];
  let host: ClientHost;
  let choice: EncryptionChoice;
  let encryption: KeySource | undefined;
  try {
    const planned = await interruption.race(planInputs(flags, format, io, trees, interruption));
    if (planned === INTERRUPTED) return interrupted(terminal);
    inputs = planned;
    const resolved = await interruption.race(resolveClientHost(flags.host));
    if (resolved === INTERRUPTED) return interrupted(terminal);
    host = resolved;
    // [K-ENCRYPT-DEFAULT] decided on the addresses just checked, before anything is sent.
    choice = chooseEncryption({
      encrypt: flags.encrypt === true,
      plaintext: flags.plaintext === true,
      keyGiven: keyGiven(flags, io.env),
      loopback: host.loopback,
    });
    if (choice.encrypt) {
      const key = await interruption.race(resolveClientKey(flags.keyFile, io.env));
      if (key === INTERRUPTED) return interrupted(terminal);
      encryption = key;
    }
  } catch (error) {
    terminal.error(error);
    return exitCodeFor(error);
  }
  if (flags.plaintext === true && keyGiven(flags, io.env)) {
    terminal.note("--plaintext: the key given is not used; this connection is not encrypted");
  }

  let client: GbClient;
  try {
    // Connecting includes deriving a key from a passphrase (scrypt, a fraction of a second).
    const connecting = connectToHost(host, flags.port, encryption);
    const connected = await interruption.race(connecting);
    if (connected === INTERRUPTED) {
      // A connection that completes after all is dropped unused.
      connecting.then(
        (late) => {
          late.destroy();
        },
        () => undefined,
      );
      return interrupted(terminal);
    }
    client = connected;
  } catch (error) {
    terminal.error(error);
    if (
      flags.plaintext === true &&
      error instanceof GbError &&
      error.code === ErrorCode.ENCRYPTION_REQUIRED
    ) {
      terminal.hint(PLAINTEXT_REFUSED_HINT);
    }
    return exitCodeFor(error);
  }

  reportSession(terminal, client, flags.json);
  if (!client.session.encrypted && !host.loopback) {
    terminal.warn(
      `sending in the clear to ${hostPort(host.name, flags.port)}: anyone on the path can read and change it`,
    );
  }
  const feed = new PlanFeed(inputs);
  const plan = feed.items;
  // [RES-HAVE] entries a run cut off before stored are reported, not sent again; the
  // questions go out as the entries are found, and the items as their answers come.
  const fates = new SendPlan(client, plan, flags.resume);
  const progress = new Progress(io.stderr, !flags.json && !flags.quiet && io.stderr.isTTY === true);
  const events = flags.json ? new ProgressEvents(terminal) : undefined;
  /** When each item's first bytes went out, for its duration and average rate. */
  const startedAt: (number | undefined)[] = [];
  const bytesSent: number[] = [];
  /** [RES-RESUME] Where each item resumed: the bytes the server already held. */
  const resumedAt: number[] = [];
  const itemProgress = (index: number): ItemProgress => {
    const planned = plan[index];
    return {
      id: index + 1,
      name: planned?.item.meta.name ?? "",
      path: planned === undefined ? "" : eventPath(planned),
      bytes: bytesSent[index] ?? 0,
      total: planned?.item.meta.size ?? null,
    };
  };
  let exitCode: number = ExitCode.OK;
  const output = { terminal, json: flags.json };
  /** [T-WALK] The plan cut short while trees were walked: what it had not reached fails. */
  const cut = new PlanCut();
  void feed.run({
    grew: (report) => {
      if (report === undefined) return;
      // Before the entries found with them go [T-MTIME].
      report.reportSkipped(terminal, flags.json);
      fates.grow(report);
    },
    walkFailed: (error, rest) => {
      progress.clear();
      terminal.error(error);
      if (exitCode === ExitCode.OK) exitCode = exitCodeFor(error);
      cut.cut(error, rest, trees, output);
    },
  });
  try {
    /** An entry of a tree as its bytes go out: the progress line is the whole tree's. */
    const entryProgress = (index: number, sent: number): void => {
      startedAt[index] ??= Date.now();
      bytesSent[index] = sent;
      const planned = plan[index];
      const tree = planned?.tree;
      if (planned !== undefined && tree !== undefined) {
        // Bytes, rate, time left, files.
        const done = tree.report.bytesSent(tree.index, sent);
        progress.update(planned.label, done, tree.report.tree.bytes, tree.report.detail());
      }
      events?.update(itemProgress(index));
    };
    /**
     * [T-BATCH] Small files of one directory that follow each other go as one item, from
     * `first` on: as many as a batch takes of those whose fate is known, before `end`;
     * undefined when fewer than two would go.
     */
    const sendBatch = (first: number, end: number): Promise<SentItem>[] | undefined => {
      if (!flags.batch) return undefined;
      const batch = new BatchPlan();
      for (let index = first; index < end; index++) {
        const fate = fates.fateNow(index);
        if (fate === undefined || !("send" in fate) || !batch.add(fate.send)) break;
      }
      if (batch.entries.length < 2) return undefined;
      const entries = batch.entries.map((item, offset) => ({
        item,
        onSent: (): void => {
          entryProgress(first + offset, item.meta.size);
        },
      }));
      return client.sendBatch(entries, { encrypt: choice.encrypt });
    };
    const send = (index: number, fate: ItemFate): Promise<SentItem> => {
      const { label, tree } = plan[index] as PlannedItem;
      if ("held" in fate) return Promise.resolve(fate.held);
      if ("failed" in fate)
        return handled(Promise.reject(toGbError(fate.failed, "the connection failed")));
      const item = fate.send;
      // A file's size is known (not standard input's): progress shows how far along it is.
      const total = item.origin === "path" ? item.meta.size : undefined;
      return client.send(item, {
        encrypt: choice.encrypt,
        resume: flags.resume,
        onResume: (offset: number): void => {
          resumedAt[index] = offset;
          progress.clear();
          if (!flags.json && !flags.quiet) {
            // An entry of a tree is named by its path in the tree, not by the tree.
            const what = eventPath(plan[index] as PlannedItem);
            terminal.note(`resuming ${escapeTerminalLine(what)} at ${formatBytes(offset)}`);
          }
        },
        onProgress: (sent: number): void => {
          if (tree !== undefined) {
            entryProgress(index, sent);
            return;
          }
          startedAt[index] ??= Date.now();
          bytesSent[index] = sent;
          progress.update(label, sent, total, undefined, resumedAt[index] ?? 0);
          events?.update(itemProgress(index));
        },
      });
    };
    // Items are handed to the connection a window ahead of the receipt awaited, not all
    // at once: a tree of 100,000 files starts at once, and what each item costs in memory
    // lives only while it is in the window.
    const pending: (Promise<SentItem> | undefined)[] = [];
    let handedOver = 0;
    // Receipts are reported in the order items were given. An item's id in --json
    // output is its position in that order (1-based), whatever the wire id was.
    // A connection-wide failure reaches every pending item as the same error object:
    // it is printed once (--json still reports each item).
    const printed = new Set<unknown>();
    sending: for (let index = 0; ; index++) {
      // The plan grows as trees are walked: wait for its next item, unless it is complete.
      while (index >= plan.length && !feed.done) {
        if ((await interruption.race(feed.more())) === INTERRUPTED) break sending;
      }
      const item = plan[index];
      if (item === undefined) break;
      for (const end = Math.min(plan.length, index + SEND_WINDOW); handedOver < end; handedOver++) {
        let fate = fates.fateNow(handedOver);
        // An entry whose answer has not come goes once it has; the next receipt needs it.
        if (fate === undefined && handedOver > index) break;
        if (fate === undefined) {
          const known = await interruption.race(fates.fate(index));
          if (known === INTERRUPTED) break sending;
          fate = known;
        }
        // A batch may reach past the window by less than one batch, rather than be cut
        // to the one item a window moving by one entry lets in.
        const batchEnd = Math.min(plan.length, end + MAX_BATCH_FILES);
        const batched = "send" in fate ? sendBatch(handedOver, batchEnd) : undefined;
        if (batched !== undefined) {
          for (const promise of batched) pending[handedOver++] = promise;
          // The loop's own step goes past the batch's last entry.
          handedOver--;
          continue;
        }
        pending[handedOver] = send(handedOver, fate);
      }
      const result = pending[index] as Promise<SentItem>;
      pending[index] = undefined;
      const id = index + 1;
      const tree = item.tree;
      try {
        const sent = await interruption.race(result);
        if (sent === INTERRUPTED) break;
        bytesSent[index] = sent.bytes;
        events?.final(itemProgress(index));
        // A tree reports its entries in --json, and its summary once all are answered. The
        // progress line is cleared only for a line printed: a tree's entries print none,
        // and clearing it per entry wrote to the terminal thousands of times a tree.
        if (tree === undefined || flags.json) {
          progress.clear();
          const durationMs = Date.now() - (startedAt[index] ?? Date.now());
          reportStored(terminal, sent, { id, path: eventPath(item), durationMs }, flags.json);
        }
        if (tree?.report.stored(sent) === true) {
          progress.clear();
          tree.report.summarize(terminal, flags.json);
        }
      } catch (error) {
        progress.clear();
        events?.final(itemProgress(index));
        if (flags.json || !printed.has(error)) {
          printed.add(error);
          reportFailed(
            terminal,
            { id, path: eventPath(item), name: item.item.meta.name },
            error,
            flags.json,
          );
        }
        if (exitCode === ExitCode.OK) exitCode = exitCodeFor(error);
        const kind = item.item.meta.kind === "dir" ? "dir" : "file";
        if (tree?.report.failed(kind) === true) tree.report.summarize(terminal, flags.json);
        // The connection failed: a tree still being walked stops, the rest is not reached.
        const failure = client.failure;
        if (failure !== undefined && !cut.happened) cut.cut(failure, feed.stop(), trees, output);
      }
    }
    if (!interruption.interrupted) {
      progress.clear();
      cut.reportUnreached(plan.length, output);
    }
  } finally {
    progress.stop();
    // Nothing more is planned once sending stopped (interrupted, or every item went).
    feed.stop();
    // Interrupted: the connection is dropped mid-item, which makes the server discard it.
    if (!interruption.interrupted) await interruption.race(client.close());
    if (interruption.interrupted) client.destroy();
  }
  return interruption.interrupted ? interrupted(terminal) : exitCode;
}

/** [CLI-INTERRUPT] Ctrl-C: says so and exits 130, like a shell's interrupted command. */
function interrupted(terminal: Terminal): number {
  terminal.error("interrupted");
  return ExitCode.INTERRUPTED;
}

/** `--key-file` given, or a passphrase in the environment: a key the user means to use. */
function keyGiven(flags: ClientFlags, env: NodeJS.ProcessEnv): boolean {
  const passphrase = env[PASSPHRASE_ENV];
  return flags.keyFile !== undefined || (passphrase !== undefined && passphrase !== "");
}

/**
 * [K-HOST] Connects to the host's addresses in turn, the very ones whose loopback status
 * chose the encryption, moving on only when one cannot be connected to (as ssh does for
 * a name with several addresses): `localhost` may resolve to ::1 and 127.0.0.1 while the
 * server listens on one of them.
 * @throws {GbError} the last address's failure
 */
async function connectToHost(
  host: ClientHost,
  port: number,
  encryption: KeySource | undefined,
): Promise<GbClient> {
  let failure: unknown;
  for (const address of host.addresses) {
    try {
      return await GbClient.connect({
        host: address,
        port,
        ...(encryption === undefined ? {} : { encryption }),
      });
    } catch (error) {
      if (!(error instanceof GbError) || error.code !== ErrorCode.CONNECT_FAILED) throw error;
      failure = error;
    }
  }
  throw failure;
}

/**
 * [CLI-OPTIONS] Options are never silently dropped: one that would have no effect, or
 * two that contradict each other, are a usage error.
 */
function usageError(flags: ClientFlags): { error: string; hint: string } | undefined {
  if (flags.dict.length === 0 && flags.file.length === 0) {
    return {
      error: "nothing to send: give --dict FILE and/or --file PATH",
      hint: "run gb-client --help for examples",
    };
  }
  const stdinUses = [...flags.dict, ...flags.file].filter((input) => input === "-").length;
  if (stdinUses > 1) {
    return {
      error: "standard input (-) can be used for one item only",
      hint: "read the other items from files",
    };
  }
  if (flags.format !== undefined && flags.dict.length === 0) {
    return {
      error: "--format applies to dictionaries, and no --dict was given",
      hint: "send a dictionary with --dict FILE, or leave out --format (files go as they are)",
    };
  }
  if (flags.name !== undefined && stdinUses === 0) {
    return {
      error: "--name names the item read from standard input, and none was given",
      hint: "use it with --file - or --dict -; a file from disk keeps its own name",
    };
  }
  return undefined;
}

/**
 * Prepares every input the user named, in the order they are sent: the dictionaries
 * first, then the files, each in the order given. `-` is standard input. A directory's
 * tree is started (its top directory read), and walked as it is sent [T-WALK]: each
 * entry of it is an item of its own.
 */
async function planInputs(
  flags: ClientFlags,
  format: DictFormat,
  io: CommandIo,
  reports: TreeReport[],
  interruption: Interruption,
): Promise<PlanInput[]> {
  // Read only when an input is "-": making process.stdin costs a few milliseconds.
  const stdin = (): AsyncIterable<Buffer> => io.stdin as AsyncIterable<Buffer>;
  const inputs: PlanInput[] = [];
  for (const dict of flags.dict) {
    const item =
      dict === "-"
        ? await prepareDictInput({ stdin: stdin() }, format, { name: flags.name })
        : await prepareDictInput({ path: dict }, format);
    inputs.push({ planned: { label: dict, item } });
  }
  for (const file of flags.file) {
    const item =
      file === "-"
        ? prepareStream(stdin(), { name: flags.name ?? STDIN_FILE_NAME, size: null })
        : await startPath(file);
    // Interrupted meanwhile: the run is over, and a tree started now is walked no further.
    if (interruption.interrupted) {
      if (item.origin === "tree") item.stop();
      return inputs;
    }
    if (item.origin !== "tree") {
      inputs.push({ planned: { label: file, item } });
      continue;
    }
    const report = new TreeReport(file, item);
    io.manyItems?.();
    inputs.push({ report });
    reports.push(report);
  }
  return inputs;
}

/** The `path` of an item's events: what the user gave, or an entry's path in its tree. */
function eventPath(planned: PlannedItem): string {
  return planned.tree === undefined ? planned.label : treePath(planned.item);
}

/** An entry's path in its tree, as a user reads it. */
function treePath(item: PreparedItem): string {
  const entry = item.meta.kind === "dict" ? undefined : item.meta.entry;
  return entry === undefined ? item.meta.name : entry.path.join("/");
}
