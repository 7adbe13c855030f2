import type { Writable } from "node:stream";
import type { ChalkInstance, Chalk } from "chalk";
import { errorExcerpt } from "./error-excerpt.js";
import { hintFor, type Program } from "./hints.js";
import { escapeTerminalLine } from "./terminal-text.js";

/** Where a command writes. Tests pass their own streams. */
export interface CommandIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Tunes the process for a run that sends many small items (a directory tree): given by
   * a program's entry point, which owns the process; absent when a command runs inside
   * another program (a test).
   */
  readonly manyItems?: () => void;
}

/**
 * Result lines held back before they are written at once. A busy server reports
 * thousands of items a second; one write per line would cost a system call each (and
 * wake the reader of the pipe each time).
 */
const MAX_HELD_STDOUT_CHARS = 64 * 1024;

/** Terminals holding result lines right now. */
const holding = new Set<Terminal>();
let exitHookInstalled = false;

/**
 * Writes the held lines of every terminal if the process exits before the end of the
 * turn (process.exit on a second Ctrl-C, or when a reader of stdout or stderr is gone).
 */
function writeHeldLinesOnExit(terminal: Terminal): void {
  holding.add(terminal);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const held of [...holding]) {
      try {
        held.flush();
      } catch {
        // Exiting: a stream that cannot take the lines any more loses them.
      }
    }
  });
}

/**
 * All terminal output of the CLIs goes through here: results on stdout, diagnostics
 * on stderr as uniform `error:` / `warning:` / `hint:` lines, colour only on a terminal
 * (and never when NO_COLOR is set).
 *
 * Result lines written in one turn of the event loop leave in one write at the end of
 * that turn (or sooner, when {@link MAX_HELD_STDOUT_CHARS} are held, a diagnostic is
 * written, or {@link flush} is called), so lines keep their order across both streams.
 */
export class Terminal {
  readonly io: CommandIo;
  /** Colours for stdout and stderr, each decided by its own stream. */
  readonly out: ChalkInstance;
  readonly err: ChalkInstance;
  /** Whose hints {@link error} shows; none when unknown. */
  readonly #program: Program | undefined;
  /**
   * [CLI-QUIET] --quiet: errors and warnings only. Result lines and notes are not
   * written; --json events are (a script asked for them).
   */
  readonly quiet: boolean;
  #held = "";
  #flushScheduled = false;
  readonly #flushLater = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };

  /**
   * @param colours chalk's `Chalk` class; see {@link Terminal.open}.
   * @param program the program whose hints {@link error} adds to an error.
   * @param options.quiet errors and warnings only ({@link quiet}).
   */
  constructor(
    io: CommandIo,
    colours: typeof Chalk,
    program?: Program,
    options: { readonly quiet?: boolean } = {},
  ) {
    this.io = io;
    this.#program = program;
    this.quiet = options.quiet === true;
    this.out = new colours({ level: colourLevel(io.stdout, io.env) });
    this.err = new colours({ level: colourLevel(io.stderr, io.env) });
  }

  /** A terminal for `io`, loading chalk only now: `--help` never needs it. */
  static async open(
    io: CommandIo,
    program?: Program,
    options: { readonly quiet?: boolean } = {},
  ): Promise<Terminal> {
    const { Chalk } = await import("chalk");
    return new Terminal(io, Chalk, program, options);
  }

  /** A result line on stdout (not with --quiet). */
  print(text: string): void {
    if (this.quiet) return;
    this.#hold(`${text}\n`);
  }

  /**
   * One JSON object per line on stdout, for scripts. JSON.stringify escapes only C0
   * controls; DEL, C1, bidirectional and invisible characters are escaped here too (as
   * `\uXXXX`, still valid JSON that parses to the same value), so a line shown on a
   * terminal cannot drive it. The stringified line holds no raw newline or tab.
   * `rawMembers` are appended as members whose values are JSON text already (such as an
   * exact dictionary, which JSON.stringify cannot write). An object with an `event`
   * member gets a `time` member after it.
   */
  json(value: object, rawMembers: Readonly<Record<string, string>> = {}): void {
    // [CLI-JSON-TIME] Every event says when it happened: ISO 8601, UTC, milliseconds,
    // right after its name.
    const stamped = "event" in value ? { event: value.event, time: new Date().toISOString() } : {};
    Object.assign(stamped, value);
    let text = JSON.stringify(stamped);
    // Members whose values are JSON text already, appended as they are.
    for (const [name, json] of Object.entries(rawMembers)) {
      text = `${text.slice(0, -1)}${text.length > 2 ? "," : ""}${JSON.stringify(name)}:${json}}`;
    }
    this.#hold(`${escapeTerminalLine(text)}\n`);
  }

  /** Writes the result lines held back, now. Call before the process exits. */
  flush(): void {
    if (this.#held === "") return;
    const text = this.#held;
    this.#held = "";
    holding.delete(this);
    this.io.stdout.write(text);
  }

  /** A status line on stderr (not with --quiet). */
  note(text: string): void {
    if (this.quiet) return;
    this.#stderr(`${text}\n`);
  }

  warn(text: string): void {
    this.#stderr(`${this.err.yellow("warning:")} ${text}\n`);
  }

  /**
   * `error: <message>` on stderr; then, for a text input, the line with a caret under the
   * column ({@link errorExcerpt}); then, when there is one ({@link hintFor}), `hint: <hint>`.
   */
  error(error: unknown, prefix?: string): void {
    const message = error instanceof Error ? error.message : String(error);
    const text = escapeTerminalLine(prefix === undefined ? message : `${prefix}: ${message}`);
    this.#stderr(`${this.err.red.bold("error:")} ${text}\n`);
    for (const line of errorExcerpt(error)) this.#stderr(`${line}\n`);
    const hint = hintFor(error, this.#program);
    if (hint !== undefined) this.hint(hint);
  }

  hint(text: string): void {
    this.#stderr(`${this.err.cyan("hint:")} ${text}\n`);
  }

  #hold(text: string): void {
    if (this.#held === "") writeHeldLinesOnExit(this);
    this.#held += text;
    if (this.#held.length >= MAX_HELD_STDOUT_CHARS) this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flushLater);
    }
  }

  /** Diagnostics follow the results printed before them. */
  #stderr(text: string): void {
    this.flush();
    this.io.stderr.write(text);
  }
}

function colourLevel(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return 0;
  if (env["FORCE_COLOR"] !== undefined && env["FORCE_COLOR"] !== "0") return 1;
  return stream.isTTY === true && env["TERM"] !== "dumb" ? 1 : 0;
}
