import { exitQuietlyOnClosedPipes } from "./quiet-epipe.js";
import { ExitCode } from "./exit-codes.js";
import { runServer } from "./server-command.js";

/**
 * How long a second Ctrl-C leaves gb-server to drop its connections and remove their
 * temporary files before the process exits anyway.
 */
const ABORT_DEADLINE_MS = 2000;

/** Entry point of the gb-server binary: wires signals and the process to {@link runServer}. */
export async function main(): Promise<void> {
  exitQuietlyOnClosedPipes();
  const stop = new AbortController();
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      stop.abort();
      return;
    }
    if (signals === 2) {
      abort.abort();
      setTimeout(() => process.exit(ExitCode.INTERRUPTED), ABORT_DEADLINE_MS).unref();
      return;
    }
    process.exit(ExitCode.INTERRUPTED);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: process.stdin is made when it is first read, and most runs never read it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
  };
  const code = await runServer(process.argv.slice(2), io, stop.signal, abort.signal);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  // A connection whose socket lingers must not keep an interrupted server alive.
  if (code === ExitCode.INTERRUPTED) process.exit(code);
  process.exitCode = code;
}
