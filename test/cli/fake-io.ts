/** In-memory {@link CommandIo} for running the CLI commands in-process. */
import { PassThrough } from "node:stream";
import type { CommandIo } from "../../src/cli/terminal.js";
import { GbServer } from "../../src/transfer/server.js";
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

const servers: GbServer[] = [];

/**
 * A server on 127.0.0.1, port 0, that saves to a directory of its own (not durably: tests
 * need no fsync) with a fixed key; `options` override any of that. Closed by
 * {@link closeServers}.
 */
export async function listenSaving(
  options: Partial<Parameters<typeof GbServer.listen>[0]> = {},
): Promise<{ server: GbServer; saveDir: string }> {
  const saveDir = await tempDir("gb-cli-save-");
  const server = await GbServer.listen({
    host: "127.0.0.1",
    port: 0,
    masterKey: Buffer.alloc(32, 7),
    saveDir,
    durable: false,
    ...options,
  });
  servers.push(server);
  return { server, saveDir };
}

/** Closes every server {@link listenSaving} started, at once. */
export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
}

/** After each test: the servers {@link listenSaving} started are closed, the temporary directories removed. */
export async function cleanUp(): Promise<void> {
  await closeServers();
  await removeTempDirs();
}
