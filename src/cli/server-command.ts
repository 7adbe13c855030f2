import { Command, Option } from "commander";
import { ErrorCode, GbError } from "../errors.js";
import type { PlaintextPolicy } from "../transfer/server/plaintext-policy.js";
import type { ItemFailure, Peer, ReceivedItem } from "../transfer/server/received-item.js";
import {
  DEFAULT_RESUME_EXPIRY_MS,
  DEFAULT_RESUME_MAX_BYTES,
} from "../transfer/server/resume-state.js";
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PREVIEW_BYTES,
  GbServer,
} from "../transfer/server.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "../transfer/default-address.js";
import { SOFTWARE_VERSION } from "../transfer/software-name.js";
import { AcceptErrorReporter } from "./accept-error-reporter.js";
import { checkSaveDir } from "./check-save-dir.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { hostOption, hostPort } from "./host-option.js";
import { portParser, positiveInteger, wholeNumber } from "./parse-options.js";
import { Progress } from "./progress.js";
import { failureLine, itemBody, itemHeading } from "./print-item.js";
import { PASSPHRASE_ENV, resolveServerKey } from "./resolve-key.js";
import { Terminal, type CommandIo } from "./terminal.js";
import { runCommand } from "./run-command.js";

/** Where items are saved unless --save-dir says otherwise. */
const DEFAULT_SAVE_DIR = "./received";

interface ServerFlags {
  host: string;
  port: number;
  print: boolean;
  save: boolean;
  /** Absent when not given: ./received. */
  saveDir?: string;
  json: boolean;
  quiet: boolean;
  keyFile?: string;
  createKey: boolean;
  requireEncryption: boolean;
  allowInsecurePlaintext: boolean;
  maxConnections: number;
  /** [RES-BOUND] MiB the partials kept for resuming may take; 0 keeps none. */
  resumeMaxMib: number;
  /** [RES-EXPIRE] Hours a partial is kept after its last byte. */
  resumeExpiryHours: number;
}

const BYTES_PER_MIB = 1024 * 1024;
const MS_PER_HOUR = 60 * 60 * 1000;

/** What the start-up line says the server takes, by policy [H-POLICY]. */
const ACCEPTING: Readonly<Record<PlaintextPolicy, string>> = {
  loopback: "key holders (Noise NNpsk0); plaintext from this machine only",
  anyone: "key holders (Noise NNpsk0); plaintext from anyone (insecure)",
  never: "key holders only (Noise NNpsk0); no plaintext",
};

const EXAMPLES = `
Examples:
  $ gb-server                          listen on 127.0.0.1:6688, print and save to ./received
  $ gb-server --no-print --save-dir /srv/inbox
  $ gb-server --port 0 --json          pick a free port; JSON lines for scripts
  $ GB_PASSPHRASE='…' gb-server        derive the key from a passphrase instead of the key file
  $ gb-server --require-encryption     take encrypted connections only, even from this machine

Clients holding the key connect over an encrypted, authenticated Noise session; plaintext
connections are taken from this machine only, unless --allow-insecure-plaintext.

Items are saved under safe names, never overwriting (notes.txt, notes-1.txt, …).
Exit codes: 0 stopped by Ctrl-C/SIGTERM, 2 usage, 3 cannot listen, 5 key problem,
7 cannot use the save directory, 1 internal error, 130 interrupted twice.`;

function buildCommand(): Command {
  return new Command("gb-server")
    .description("Receive dictionaries and files from gb-client, print them and/or save them.")
    .version(
      `gb-server ${SOFTWARE_VERSION}`,
      "-V, --version",
      "print the program's name and version",
    )
    .option(
      "--host <address>",
      "address to listen on: 0.0.0.0 (IPv4) or :: (IPv6 and IPv4) for every interface; ::1 or [::1] for IPv6 loopback",
      hostOption,
      DEFAULT_HOST,
    )
    .option(
      "--port <number>",
      "port to listen on (0 picks a free one)",
      portParser(0),
      DEFAULT_PORT,
    )
    .option("--print", "show each received item on the screen", true)
    .option("--no-print", "do not show received items")
    .option(
      "--save-dir <dir>",
      `directory to save received items in (default: ${DEFAULT_SAVE_DIR})`,
    )
    .option("--no-save", "do not save received items")
    .option("--json", "print one JSON object per event on stdout, for scripts", false)
    .option(
      "--quiet",
      "print errors and failed items only (with --json, the JSON events too)",
      false,
    )
    .option(
      "--key-file <path>",
      `key for encrypted items (default: the per-user key file, created on first start; or $${PASSPHRASE_ENV})`,
    )
    .option("--create-key", "create the --key-file if it does not exist", false)
    .option("--require-encryption", "refuse plaintext connections, even from this machine", false)
    .option(
      "--allow-insecure-plaintext",
      "take plaintext connections from any address (anyone on the network can read and alter them)",
      false,
    )
    .addOption(
      new Option("--max-connections <n>", "connections served at once")
        .argParser(positiveInteger)
        .default(DEFAULT_MAX_CONNECTIONS),
    )
    .addOption(
      new Option(
        "--resume-max-mib <n>",
        "MiB the partial files kept for resuming interrupted transfers may take together (0 keeps none)",
      )
        .argParser(wholeNumber)
        .default(DEFAULT_RESUME_MAX_BYTES / BYTES_PER_MIB),
    )
    .addOption(
      new Option(
        "--resume-expiry-hours <n>",
        "hours a partial file is kept after its last byte arrived",
      )
        .argParser(positiveInteger)
        .default(DEFAULT_RESUME_EXPIRY_MS / MS_PER_HOUR),
    )
    .addHelpText("after", EXAMPLES);
}

/**
 * Runs gb-server until `signal` aborts (the binary aborts it on SIGINT/SIGTERM), then
 * lets items in flight finish and returns the exit code. If `abortSignal` aborts too (a
 * second Ctrl-C), items in flight are dropped at once, their temporary files removed,
 * and the exit code is 130.
 */
export async function runServer(
  argv: readonly string[],
  io: CommandIo,
  signal: AbortSignal,
  abortSignal: AbortSignal = new AbortController().signal,
): Promise<number> {
  return runCommand(buildCommand(), argv, io, async (flags: ServerFlags, terminal) => {
    if (flags.requireEncryption && flags.allowInsecurePlaintext) {
      terminal.error("--require-encryption and --allow-insecure-plaintext contradict each other");
      terminal.hint("give one of them, or neither (plaintext from this machine only)");
      return ExitCode.USAGE;
    }
    // [CLI-OPTIONS] Options are never silently dropped.
    if (!flags.save && flags.saveDir !== undefined) {
      terminal.error("--no-save and --save-dir contradict each other");
      terminal.hint("give one of them: --no-save stores nothing");
      return ExitCode.USAGE;
    }
    if (flags.createKey && flags.keyFile === undefined) {
      terminal.error("--create-key creates the --key-file, and none was given");
      terminal.hint("the per-user key file is created on first start without it");
      return ExitCode.USAGE;
    }
    const plaintext: PlaintextPolicy = flags.requireEncryption
      ? "never"
      : flags.allowInsecurePlaintext
        ? "anyone"
        : "loopback";
    const saveDir = flags.save ? (flags.saveDir ?? DEFAULT_SAVE_DIR) : null;
    if (saveDir !== null) {
      try {
        await checkSaveDir(saveDir);
      } catch (error) {
        terminal.error(error);
        return exitCodeFor(error);
      }
    }

    let key;
    try {
      key = await resolveServerKey(flags.keyFile, io.env, { create: flags.createKey });
    } catch (error) {
      if (
        flags.keyFile !== undefined &&
        error instanceof GbError &&
        error.code === ErrorCode.KEY_MISSING &&
        !flags.createKey
      ) {
        // [CLI-KEY-FILE] A key file named but absent is most likely a typo: never a new key.
        terminal.error(`no key file at ${flags.keyFile}`);
        terminal.hint(
          `create one with gb-key generate --key-file ${flags.keyFile}, copy it from the client's machine, or pass --create-key`,
        );
        return ExitCode.KEY;
      }
      terminal.error(error, "cannot load the key");
      return exitCodeFor(error);
    }
    if (key.created)
      terminal.note(`created a new key file at ${key.keyFile ?? "?"} (readable by you only)`);

    let server: GbServer;
    try {
      server = await GbServer.listen({
        host: flags.host,
        port: flags.port,
        masterKey: key.masterKey,
        ...(key.scryptSalt === undefined ? {} : { scryptSalt: key.scryptSalt }),
        saveDir,
        resumeMaxBytes: flags.resumeMaxMib * BYTES_PER_MIB,
        resumeExpiryMs: flags.resumeExpiryHours * MS_PER_HOUR,
        previewBytes: flags.print ? DEFAULT_PREVIEW_BYTES : 0,
        // --json --print writes each dictionary whole: the server renders it off its event loop.
        dictJsonText: flags.json && flags.print,
        dictPrintable: flags.print && !flags.json,
        plaintext,
        maxConnections: flags.maxConnections,
      });
    } catch (error) {
      terminal.error(error);
      return error instanceof GbError ? exitCodeFor(error) : ExitCode.INTERNAL;
    }
    const { host, port } = server.address();
    terminal.note(
      `gb-server listening on ${hostPort(host, port)} · ${server.saveDir === null ? "not saving" : `saving to ${server.saveDir}`}` +
        ` · ${flags.print ? "printing" : "not printing"} · key: ${key.description}`,
    );
    terminal.note(`accepting: ${ACCEPTING[plaintext]}`);
    terminal.note(
      `open files: up to ${server.openFileLimit ?? "unknown"} (ulimit -n) · connections: up to ${server.maxConnections}`,
    );
    if (flags.json) {
      terminal.json({
        event: "listening",
        host,
        port,
        saveDir: server.saveDir,
        keyFile: key.keyFile ?? null,
        plaintext,
      });
    }
    // [CLI-PROGRESS] On a terminal, a long incoming item shows a progress line on stderr,
    // cleared when it is over; not with --json or --quiet, nor into a pipe or a file.
    const progress = new Progress(
      io.stderr,
      !flags.json && !flags.quiet && io.stderr.isTTY === true,
      "receiving",
    );
    const progressLabel = (item: Peer & { readonly id: number; readonly name: string }): string =>
      `${item.name} from ${item.remote} (#${item.connectionId}.${item.id})`;
    if (!flags.json && !flags.quiet && io.stderr.isTTY === true) {
      server.on("progress", (inbound) => {
        progress.update(progressLabel(inbound), inbound.bytes, inbound.size ?? undefined);
      });
    }
    server.on("item", (item) => {
      progress.done(progressLabel(item));
      reportItem(terminal, item, flags);
    });
    server.on("failure", (failure) => {
      if (failure.id !== undefined && failure.name !== undefined) {
        progress.done(progressLabel({ ...failure, id: failure.id, name: failure.name }));
      }
      reportFailure(terminal, failure, flags);
    });
    const acceptErrors = new AcceptErrorReporter(terminal, flags.json);
    server.on("acceptError", (error) => {
      acceptErrors.report(error);
    });
    // Reporting must never take the server down; if it throws, say so and go on.
    server.on("error", (error) => {
      terminal.error(error, "cannot report an item");
    });

    await whenAborted(signal);
    progress.stop();
    acceptErrors.flush();
    terminal.note("shutting down: finishing items in flight…");
    const finished = await Promise.race([
      server.close(DEFAULT_CLOSE_GRACE_MS).then(() => true),
      whenAborted(abortSignal).then(() => false),
    ]);
    if (finished) return ExitCode.OK;
    // [CLI-INTERRUPT] A second Ctrl-C: no more waiting, but no partial file is left.
    await server.abort();
    terminal.error("interrupted: items in flight were discarded");
    return ExitCode.INTERRUPTED;
  });
}

function reportItem(terminal: Terminal, item: ReceivedItem, flags: ServerFlags): void {
  if (flags.json) {
    const event: Record<string, unknown> = {
      event: "item",
      connection: item.connectionId,
      remote: item.remote,
      id: item.id,
      kind: item.kind,
      name: item.name,
      format: item.format ?? null,
      encrypted: item.encrypted,
      bytes: item.bytes,
      sha256: item.sha256,
      savedAs: item.savedAs,
      savedPath: item.savedPath,
      session: item.session,
    };
    if (flags.print && item.jsonText !== undefined) {
      // JSON.stringify would write a Map as {} and refuses bigints: the value is the
      // dictionary renderer's exact text (order, integers, floats), as the last member.
      terminal.json(event, { value: item.jsonText });
    } else terminal.json(event);
    return;
  }
  if (flags.print) {
    terminal.print(itemHeading(item, terminal.out));
    terminal.print(itemBody(item, terminal.out));
  }
}

function reportFailure(terminal: Terminal, failure: ItemFailure, flags: ServerFlags): void {
  if (flags.json) {
    terminal.json({
      event: "failure",
      connection: failure.connectionId,
      remote: failure.remote,
      id: failure.id ?? null,
      name: failure.name ?? null,
      code: failure.code,
      message: failure.message,
      session: failure.session,
    });
    return;
  }
  terminal.warn(failureLine(failure));
}

/** Resolves when `signal` aborts (SIGINT/SIGTERM in the binary). */
function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else
      signal.addEventListener(
        "abort",
        () => {
          resolve();
        },
        { once: true },
      );
  });
}
