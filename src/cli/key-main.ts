import { exitQuietlyOnClosedPipes } from "./quiet-epipe.js";
import { runKey } from "./key-command.js";

/** Entry point of the gb-key binary. */
export async function main(): Promise<void> {
  exitQuietlyOnClosedPipes();
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: process.stdin is made when it is first read, and most runs never read it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
  };
  process.exitCode = await runKey(process.argv.slice(2), io);
}
