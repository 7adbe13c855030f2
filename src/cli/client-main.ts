import { ExitCode } from "./exit-codes.js";
import { exitQuietlyOnClosedPipes } from "./quiet-epipe.js";
import { runClient } from "./client-command.js";
import { tuneForManyItems } from "./v8-tuning.js";

/**
 * How long the first Ctrl-C leaves gb-client to stop by itself (drop the connection,
 * say so) before the process exits anyway: a stop that hangs must not hold the user.
 */
const INTERRUPT_DEADLINE_MS = 1000;

/** Entry point of the gb-client binary. */
export async function main(): Promise<void> {
  exitQuietlyOnClosedPipes();
  const controller = new AbortController();
  let interrupts = 0;
  // [CLI-INTERRUPT] The first Ctrl-C aborts the run (the client drops its connection and
  // says "interrupted"); a second one, or a stop that takes too long, exits at once.
  const onInterrupt = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.INTERRUPTED);
    controller.abort();
    setTimeout(() => process.exit(ExitCode.INTERRUPTED), INTERRUPT_DEADLINE_MS).unref();
  };
  process.on("SIGINT", onInterrupt);
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: process.stdin is made when it is first read, and most runs never read it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    manyItems: tuneForManyItems,
  };
  const code = await runClient(process.argv.slice(2), io, controller.signal);
  // Standard input still open, a key still being derived or a connection still being
  // made would keep an interrupted process alive: it exits now.
  if (code === ExitCode.INTERRUPTED) process.exit(code);
  process.exitCode = code;
}
