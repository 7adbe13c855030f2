/** In-memory {@link CommandIo} for running the CLI commands in-process. */
import { PassThrough } from "node:stream";
import type { CommandIo } from "../../src/cli/terminal.js";
import { Output } from "../support/output.js";
import { TempDirs } from "../support/temp-dirs.js";

export { withTimeout } from "../support/with-timeout.js";

/** Bound for every wait in these tests. */
export const WAIT_MS = 10_000;

export interface FakeIo {
  readonly io: CommandIo;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly stdin: PassThrough;
}

/**
 * Streams for one command run. stdin is ended at once (with `input` when given) unless
 * `input` is null, in which case the test writes to it itself.
 */
export function fakeIo(env: NodeJS.ProcessEnv, input: Buffer | string | null = ""): FakeIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  if (input !== null) stdin.end(input);
  return {
    io: { stdout, stderr, stdin, env },
    stdout: new Output(stdout, WAIT_MS),
    stderr: new Output(stderr, WAIT_MS),
    stdin,
  };
}

const tempDirs = new TempDirs();

export function tempDir(prefix = "gb-cli-"): Promise<string> {
  return tempDirs.make(prefix);
}

/** An environment with its own XDG_CONFIG_HOME, so the real home is never touched. */
export async function testEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  return { XDG_CONFIG_HOME: await tempDir("gb-cli-config-"), NO_COLOR: "1", ...extra };
}

export function removeTempDirs(): Promise<void> {
  return tempDirs.removeAll();
}
