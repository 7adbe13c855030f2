import { exitQuietlyOnClosedPipes } from "./quiet-epipe.js";
import { runClient } from "./client-command.js";

/** Entry point of the gb-client binary. */
export async function main(): Promise<void> {
  exitQuietlyOnClosedPipes();
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  };
  process.exitCode = await runClient(process.argv.slice(2), io);
}
