import { Command } from "commander";
import { SOFTWARE_VERSION } from "../transfer/software-name.js";
import type { KeyFlags, KeySubcommand } from "./key-flags.js";
import { PASSPHRASE_ENV } from "./passphrase-env.js";
import { runCommand } from "./run-command.js";
import type { CommandIo } from "./terminal.js";

const EXAMPLES = `
Examples:
  $ gb-key generate                          create the per-user key file
  $ gb-key export | ssh HOST gb-key import   copy the key to another machine
  $ gb-key fingerprint                       compare this on both machines
  $ gb-key export --key-file ./team.key      the key of another key file

Every subcommand takes --key-file PATH (default: the per-user key file) and --json.
The key text is one line: GB-SECRET-KEY-1 and 58 more characters, with a checksum
that catches a mistyped character. It is the secret key itself: move it only over a
channel you trust. A key derived from $${PASSPHRASE_ENV} has no fingerprint and cannot
be exported: use a key file to have something to move.

Exit codes: 0 done, 2 usage (or fingerprint/export while $${PASSPHRASE_ENV} is set),
5 no key file, an invalid key file or key text, or another key in the way (--force
replaces it), 7 the key file cannot be written or standard input cannot be read,
1 internal error.`;

/** A subcommand with the options every one takes. */
function subcommand(
  name: KeySubcommand,
  description: string,
  chosen: (name: KeySubcommand, flags: KeyFlags) => void,
): Command {
  return new Command(name)
    .description(description)
    .option("--key-file <path>", "the key file (default: the per-user key file)")
    .option("--json", "print one JSON object on stdout, for scripts", false)
    .action((_options: unknown, command: Command) => {
      chosen(name, command.opts<KeyFlags>());
    });
}

function buildCommand(chosen: (name: KeySubcommand, flags: KeyFlags) => void): Command {
  const generate = subcommand(
    "generate",
    "create a new key file (mode 0600) and print its fingerprint",
    chosen,
  )
    .option("--force", "replace the key file if it exists (its key is lost)", false)
    .addHelpText("after", "\nExample:\n  $ gb-key generate --key-file ./team.key");
  const fingerprint = subcommand(
    "fingerprint",
    "print the key's fingerprint, for two people to compare",
    chosen,
  ).addHelpText(
    "after",
    "\nExample:\n  $ gb-key fingerprint   # read it out; it must match on both machines",
  );
  const exportKey = subcommand(
    "export",
    "print the key as one line of text on stdout (notes go to stderr)",
    chosen,
  ).addHelpText("after", "\nExample:\n  $ gb-key export | ssh HOST gb-key import");
  const importKey = subcommand(
    "import",
    "read a key line from stdin, check it and write it to the key file",
    chosen,
  )
    .option("--force", "replace a key file that holds another key", false)
    .addHelpText(
      "after",
      "\nExamples:\n  $ gb-key export | ssh HOST gb-key import\n  $ gb-key import          # then paste the line and press Enter",
    );
  return new Command("gb-key")
    .description(
      "Create, show, export and import the key that gb-client and gb-server share, as one line of text.",
    )
    .version(`gb-key ${SOFTWARE_VERSION}`, "-V, --version", "print the program's name and version")
    .addCommand(generate)
    .addCommand(fingerprint)
    .addCommand(exportKey)
    .addCommand(importKey)
    .addHelpText("after", EXAMPLES);
}

/** Runs gb-key and returns its exit code. */
export async function runKey(argv: readonly string[], io: CommandIo): Promise<number> {
  let selected: { name: KeySubcommand; flags: KeyFlags } | undefined;
  const command = buildCommand((name, flags) => {
    selected = { name, flags };
  });
  return runCommand(command, argv, io, async (_flags: unknown, terminal) => {
    // Commander runs a subcommand's action, or fails the parse: one was chosen.
    if (selected === undefined) throw new Error("gb-key: no subcommand was chosen");
    // Keys, files and crypto load only when there is work to do.
    const { runKeySubcommand } = await import("./key-actions.js");
    return runKeySubcommand(selected.name, selected.flags, io, terminal);
  });
}
