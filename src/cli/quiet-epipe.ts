/**
 * Output piped into a program that stops reading early (`gb-server --json | head -1`)
 * is not an error: exit quietly instead of crashing on EPIPE.
 */
export function exitQuietlyOnClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}
