import type { Writable } from "node:stream";
import type { ChalkInstance, Chalk } from "chalk";
import { GbError } from "../errors.js";
import { escapeTerminalLine } from "./terminal-text.js";

/** Where a command writes. Tests pass their own streams. */
export interface CommandIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * All terminal output of the CLIs goes through here: results on stdout, diagnostics
 * on stderr as uniform `error:` / `warning:` / `hint:` lines, colour only on a terminal
 * (and never when NO_COLOR is set).
 */
export class Terminal {
  readonly io: CommandIo;
  /** Colours for stdout and stderr, each decided by its own stream. */
  readonly out: ChalkInstance;
  readonly err: ChalkInstance;

  /** @param colours chalk's `Chalk` class; see {@link Terminal.open}. */
  constructor(io: CommandIo, colours: typeof Chalk) {
    this.io = io;
    this.out = new colours({ level: colourLevel(io.stdout, io.env) });
    this.err = new colours({ level: colourLevel(io.stderr, io.env) });
  }

  /** A terminal for `io`, loading chalk only now: `--help` never needs it. */
  static async open(io: CommandIo): Promise<Terminal> {
    const { Chalk } = await import("chalk");
    return new Terminal(io, Chalk);
  }

  /** A result line on stdout. */
  print(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  /**
   * One JSON object per line on stdout, for scripts. JSON.stringify escapes only C0
   * controls; DEL, C1, bidirectional and invisible characters are escaped here too (as
   * `\uXXXX`, still valid JSON that parses to the same value), so a line shown on a
   * terminal cannot drive it. The stringified line holds no raw newline or tab.
   */
  json(value: object): void {
    this.io.stdout.write(`${escapeTerminalLine(JSON.stringify(value))}\n`);
  }

  /** A status line on stderr. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.io.stderr.write(`${this.err.yellow("warning:")} ${text}\n`);
  }

  /** `error: <message>` and, when the error has one, `hint: <hint>` on stderr. */
  error(error: unknown, prefix?: string): void {
    const message = error instanceof Error ? error.message : String(error);
    const text = escapeTerminalLine(prefix === undefined ? message : `${prefix}: ${message}`);
    this.io.stderr.write(`${this.err.red.bold("error:")} ${text}\n`);
    if (error instanceof GbError && error.hint !== undefined) this.hint(error.hint);
  }

  hint(text: string): void {
    this.io.stderr.write(`${this.err.cyan("hint:")} ${text}\n`);
  }
}

function colourLevel(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return 0;
  if (env["FORCE_COLOR"] !== undefined && env["FORCE_COLOR"] !== "0") return 1;
  return stream.isTTY === true && env["TERM"] !== "dumb" ? 1 : 0;
}
