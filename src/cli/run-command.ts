import { CommanderError, Help, type Command } from "commander";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { PROGRAMS } from "./hints.js";
import { Terminal, type CommandIo } from "./terminal.js";

/**
 * Parses `argv` with `command` without letting commander exit the process, routes its
 * output to `io`, and runs `action` with the parsed flags and a {@link Terminal}.
 * Returns the exit code: 0 for --help/--version, 2 for usage errors. Nothing but
 * commander is loaded until there is something to run or to colour.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- Flags names the shape the command's option definitions produce
export async function runCommand<Flags>(
  command: Command,
  argv: readonly string[],
  io: CommandIo,
  action: (flags: Flags, terminal: Terminal) => Promise<number>,
): Promise<number> {
  // Subcommands copy these settings when they are created, which was before this call.
  for (const each of [command, ...command.commands]) {
    each
      .exitOverride()
      .showHelpAfterError(false)
      .configureHelp({
        // A flag that is off unless given says nothing about its default.
        optionDescription(option) {
          const text = new Help().optionDescription(option);
          return option.defaultValue === false ? text.replace(/ \(default: false\)$/, "") : text;
        },
      })
      .configureOutput({
        writeOut: (text) => io.stdout.write(text),
        writeErr: (text) => io.stderr.write(text),
      });
  }
  const program = PROGRAMS.find((name) => name === command.name()) ?? "gb-client";
  try {
    command.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.OK;
      (await Terminal.open(io, program)).hint(`run ${command.name()} --help for usage`);
      return ExitCode.USAGE;
    }
    throw error;
  }
  const quiet = command.opts<Record<string, unknown>>()["quiet"] === true;
  const terminal = await Terminal.open(io, program, { quiet });
  try {
    // Commander types parsed options loosely; the option definitions fix their shape.
    return await action(command.opts<Record<string, unknown>>() as Flags, terminal);
  } catch (error) {
    terminal.error(error);
    return exitCodeFor(error);
  } finally {
    terminal.flush();
  }
}
