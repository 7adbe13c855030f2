import { CommanderError, type Command } from "commander";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import type { Terminal } from "./terminal.js";

/**
 * Parses `argv` with `command` without letting commander exit the process, routes its
 * output through `terminal`, and runs `action` with the parsed flags.
 * Returns the exit code: 0 for --help/--version, 2 for usage errors.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- Flags names the shape the command's option definitions produce
export async function runCommand<Flags>(
  command: Command,
  argv: readonly string[],
  terminal: Terminal,
  action: (flags: Flags) => Promise<number>,
): Promise<number> {
  command
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (text) => terminal.io.stdout.write(text),
      writeErr: (text) => terminal.io.stderr.write(text),
      outputError: (text, write) => {
        write(text);
        terminal.hint(`run ${command.name()} --help for usage`);
      },
    });
  try {
    command.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    throw error;
  }
  try {
    // Commander types parsed options loosely; the option definitions fix their shape.
    return await action(command.opts<Record<string, unknown>>() as Flags);
  } catch (error) {
    terminal.error(error);
    return exitCodeFor(error);
  }
}
