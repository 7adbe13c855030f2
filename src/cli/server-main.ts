import { exitQuietlyOnClosedPipes } from "./quiet-epipe.js";
import { ExitCode } from "./exit-codes.js";
import { runServer } from "./server-command.js";

/** Entry point of the gb-server binary: wires signals and the process to {@link runServer}. */
export async function main(): Promise<void> {
  exitQuietlyOnClosedPipes();
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals > 1) process.exit(ExitCode.INTERRUPTED);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  };
  process.exitCode = await runServer(process.argv.slice(2), io, controller.signal);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
}
