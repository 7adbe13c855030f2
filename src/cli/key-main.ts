import { exitQuietlyOnClosedPipes } from "./quiet-epipe.js";
import { runKey } from "./key-command.js";

/** Entry point of the gb-key binary. */
export async function main(): Promise<void> {
  exitQuietlyOnClosedPipes();
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  };
  process.exitCode = await runKey(process.argv.slice(2), io);
}
