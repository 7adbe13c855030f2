import type { DictFormat } from "../codecs/dict-format.js";
import { ErrorCode, GbError } from "../errors.js";
import { GbClient, type KeySource, type SentItem } from "../transfer/client.js";
import {
  prepareDictInput,
  prepareFile,
  prepareStream,
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
import { Progress } from "./progress.js";
import { resolveClientKey } from "./resolve-key.js";
import type { CommandIo, Terminal } from "./terminal.js";
import { escapeTerminalLine } from "./terminal-text.js";

/** Name of a file item read from standard input. */
const STDIN_FILE_NAME = "stdin";

/** An item as the user named it (its label), prepared before connecting. */
interface PlannedItem {
  readonly label: string;
  readonly item: PreparedItem;
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
  let host: ClientHost;
  let choice: EncryptionChoice;
  let encryption: KeySource | undefined;
  try {
    plan = await planItems(flags, format, io);
    host = await resolveClientHost(flags.host);
    // [K-ENCRYPT-DEFAULT] decided on the addresses just checked, before anything is sent.
    choice = chooseEncryption({
      encrypt: flags.encrypt === true,
      plaintext: flags.plaintext === true,
      keyGiven: keyGiven(flags, io.env),
      loopback: host.loopback,
    });
    if (choice.encrypt) encryption = await resolveClientKey(flags.keyFile, io.env);
  } catch (error) {
    terminal.error(error);
    return exitCodeFor(error);
  }
  if (flags.plaintext === true && keyGiven(flags, io.env)) {
    terminal.note("--plaintext: the key given is not used; this connection is not encrypted");
  }

  let client: GbClient;
  try {
    client = await connectToHost(host, flags.port, encryption);
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
  const progress = new Progress(io.stderr, !flags.json && io.stderr.isTTY === true);
  let exitCode: number = ExitCode.OK;
  try {
    const pending = plan.map(({ label, item }) => {
      // A file's size is known (not standard input's): progress shows how far along it is.
      const total = item.origin === "path" ? item.meta.size : undefined;
      return client.send(item, {
        encrypt: choice.encrypt,
        onProgress: (bytesSent: number): void => {
          progress.update(label, bytesSent, total);
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
      try {
        const sent = await result;
        progress.clear();
        reportStored(terminal, sent, id, flags.json);
      } catch (error) {
        progress.clear();
        if (flags.json || !printed.has(error)) {
          printed.add(error);
          reportFailed(terminal, item.label, id, error, flags.json);
        }
        if (exitCode === ExitCode.OK) exitCode = exitCodeFor(error);
      }
    }
  } finally {
    progress.stop();
    await client.close().catch(() => undefined);
  }
  return exitCode;
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
 * Prepares every item the user named, in the order they are sent: the dictionary
 * first, then the files in the order given. `-` is standard input.
 */
async function planItems(
  flags: ClientFlags,
  format: DictFormat,
  io: CommandIo,
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
        : await prepareFile(file);
    plan.push({ label: file, item });
  }
  return plan;
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

function reportStored(terminal: Terminal, sent: SentItem, id: number, json: boolean): void {
  const receipt = sent.receipt;
  if (json) {
    terminal.json({
      event: "stored",
      id,
      kind: sent.kind,
      name: sent.name,
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
