/**
 * Runs a program on a pseudo-terminal, as a user at a terminal would: Python's `pty`
 * module (python3 is on every machine the tests run on) makes a terminal whose line
 * discipline turns a typed `\x03` into SIGINT for the program, exactly as Ctrl-C does.
 * What the program writes to the terminal comes back on {@link PtyProgram.output}.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterEach } from "vitest";
import { Output } from "../support/output.js";
import { WAIT_MS, withTimeout, type Exit } from "./harness.js";

/**
 * pty.spawn copies our stdin to the terminal and the terminal to our stdout. The shell
 * gives the terminal a size first: a new one has 0 columns, which no user's terminal has.
 */
const PTY_RUNNER = [
  "import os, pty, sys",
  "status = pty.spawn(['sh', '-c', 'stty cols 100 rows 30 && exec \"$0\" \"$@\"', *sys.argv[2:]])",
  "code = os.waitstatus_to_exitcode(status)",
  // A program killed by a signal: what a shell shows as $? (128 + the signal), or -signal.
  "sys.exit(128 - code if code < 0 and sys.argv[1] == 'shell' else code % 256)",
].join("\n");

/** Ctrl-C as a terminal receives it. */
export const CTRL_C = "\x03";

const running = new Set<ChildProcess>();

afterEach(() => {
  // Closing the terminal (its master, held by the runner) hangs up on the program.
  for (const child of running) child.kill("SIGKILL");
  running.clear();
});

export interface PtyProgram {
  /** Everything the program wrote to its terminal (stdout and stderr together). */
  readonly output: Output;
  /** Types `text` on the terminal; returns when it was typed (Date.now()). */
  type(text: string): number;
  /** The program's exit and when it was seen (Date.now()); bounded by {@link WAIT_MS}. */
  exit(): Promise<Exit & { readonly at: number }>;
}

/** Starts `command` with `args` on a fresh pseudo-terminal. */
export function startOnPty(
  command: string,
  args: readonly string[],
  options: {
    readonly env: NodeJS.ProcessEnv;
    readonly cwd: string;
    /**
     * "shell": a program killed by a signal exits 128 + the signal, as `$?` in a shell
     * shows it; "raw" (the default): 256 - the signal, so that a test tells it from an exit.
     */
    readonly statusAs?: "shell" | "raw";
  },
): PtyProgram {
  const child = spawn("python3", ["-c", PTY_RUNNER, options.statusAs ?? "raw", command, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  const exited = new Promise<Exit & { at: number }>((resolve) => {
    child.once("close", (code, signal) => {
      running.delete(child);
      resolve({ code, signal, at: Date.now() });
    });
  });
  const output = new Output(child.stdout, WAIT_MS);
  const errors = new Output(child.stderr, WAIT_MS);
  return {
    output,
    type: (text) => {
      child.stdin.write(text);
      return Date.now();
    },
    exit: () =>
      withTimeout(
        exited,
        WAIT_MS,
        `${command} ${args.join(" ")} to exit on its terminal\n${output.text}\n${errors.text}`,
      ),
  };
}
