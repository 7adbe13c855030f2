import { Command, Option } from "commander";
import { DEFAULT_HOST, DEFAULT_PORT } from "../transfer/default-address.js";
import { SOFTWARE_VERSION } from "../transfer/software-name.js";
import type { ClientFlags, ParsedClientFlags } from "./client-flags.js";
import { ExitCode } from "./exit-codes.js";
import { hostOption } from "./host-option.js";
import { portParser } from "./parse-options.js";
import { PASSPHRASE_ENV } from "./passphrase-env.js";
import { runCommand } from "./run-command.js";
import type { CommandIo } from "./terminal.js";

const EXAMPLES = `
Examples:
  $ gb-client --dict samples/data.json --format binary
  $ gb-client --file samples/notes.txt --encrypt
  $ gb-client --dict samples/data.json --format xml --file samples/notes.txt --file samples/image.png
  $ gb-client --file samples/       a directory tree; run it again to resume where it stopped
  $ tar c somedir | gb-client --file - --name somedir.tar --json
                                                  send stdin, named; JSON events for scripts
  $ gb-client --dict a.json --dict b.json --quiet   two dictionaries; errors only

Encryption: the client encrypts with --encrypt, whenever a key is given (--key-file
PATH, or a passphrase in $${PASSPHRASE_ENV}), and by default when the host is not this
machine; the key is then the per-user key file unless given. The key never travels: a
Noise handshake proves both sides hold it, and everything after it is encrypted and
authenticated. --plaintext sends in the clear, which a server takes only from its own
machine unless started with --allow-insecure-plaintext.

Exit codes: 0 all stored and verified, 2 usage, 3 cannot connect / connection lost,
4 rejected by the server, 5 key or decryption failure, 6 receipt mismatch,
7 unreadable or invalid input, 8 the server broke the protocol, 1 internal error,
130 interrupted (Ctrl-C; the server keeps nothing half-sent).`;

/** Commander parser of a repeatable option: every value, in the order given. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function buildCommand(): Command {
  return (
    new Command("gb-client")
      .description(
        "Send a dictionary and/or files to gb-server, optionally encrypted, and verify the receipts.",
      )
      .version(
        `gb-client ${SOFTWARE_VERSION}`,
        "-V, --version",
        "print the program's name and version",
      )
      .option(
        "--host <address>",
        "server address: IPv4, IPv6 (::1 or [::1]) or a host name",
        hostOption,
        DEFAULT_HOST,
      )
      .option("--port <number>", "server port", portParser(1), DEFAULT_PORT)
      .option(
        "--dict <file>",
        "a JSON file holding one object to send as a dictionary (repeatable; - for stdin)",
        collect,
      )
      .addOption(
        new Option(
          "--format <format>",
          "wire format of the dictionaries (default: json; binary is MessagePack)",
        ).choices(["json", "binary", "xml"]),
      )
      .option(
        "--file <path>",
        "a file or a directory tree to send (repeatable; - for stdin)",
        collect,
      )
      .option(
        "--name <name>",
        "the name of the item read from standard input (--file - or --dict -)",
      )
      // --encrypt and --plaintext show no default: when neither is given, the host and the
      // key decide [K-ENCRYPT-DEFAULT].
      .option(
        "--encrypt",
        "connect over an encrypted, authenticated session (Noise NNpsk0 with the key); the default off this machine or with a key given",
      )
      .addOption(
        new Option(
          "--plaintext",
          "send in the clear, even with a key given or off this machine",
        ).conflicts("encrypt"),
      )
      .option("--key-file <path>", "key file to encrypt with (default: the per-user key file)")
      .option(
        "--json",
        "print JSON events on stdout, one per line, for scripts (progress, stored, failed)",
        false,
      )
      .option("--quiet", "print errors only (with --json, the JSON events too)", false)
      .option(
        "--no-resume",
        "send every file whole, even where the server kept part of it from an interrupted run",
      )
      .option(
        "--no-batch",
        "send each small file of a directory as an item of its own (for servers older than batches)",
      )
      // A bare argument is most likely a file meant for --file: said so, not "too many arguments".
      .allowExcessArguments(true)
      .addHelpText("after", EXAMPLES)
  );
}

/**
 * Runs gb-client and returns its exit code. When `signal` aborts (the binary aborts it
 * on Ctrl-C), the run stops at once and returns 130.
 */
export async function runClient(
  argv: readonly string[],
  io: CommandIo,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  const command = buildCommand();
  return runCommand(command, argv, io, async (parsed: ParsedClientFlags, terminal) => {
    const stray = command.args[0];
    if (stray !== undefined) {
      terminal.error(`unexpected argument '${stray}': items are named by an option`);
      const option = stray.endsWith(".json") ? "--dict" : "--file";
      terminal.hint(`did you mean ${option} ${stray}?`);
      return ExitCode.USAGE;
    }
    const flags: ClientFlags = { ...parsed, dict: parsed.dict ?? [], file: parsed.file ?? [] };
    // The sending code (codecs, crypto, networking) loads only when there is work to
    // do, so --help and --version start as fast as node itself.
    const { sendItems } = await import("./client-send.js");
    return sendItems(flags, io, terminal, signal);
  });
}
