/**
 * Stands in for `node:child_process` in the bundled CLI (see the `bundle` script in
 * package.json). commander loads it at start-up for executable subcommands, which
 * gb-transfer does not have; loading it, and `node:net` with it, costs about 5 ms of
 * every start. The real module is loaded on first use instead.
 */
import type * as ChildProcess from "node:child_process";
import { createRequire } from "node:module";

function load(): typeof ChildProcess {
  return createRequire(import.meta.url)("node:child_process") as typeof ChildProcess;
}

/** `child_process.spawn`, loaded when first called. */
export function spawn(
  command: string,
  args: readonly string[],
  options: ChildProcess.SpawnOptions,
): ChildProcess.ChildProcess {
  return load().spawn(command, args, options);
}
