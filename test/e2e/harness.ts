/**
 * Helpers for end-to-end tests that run the real gb-server and gb-client binaries
 * (bin/*.cjs, which load the bundled CLI in dist/) as child processes.
 *
 * Every wait is bounded; every child and temporary directory is registered so that
 * {@link cleanup} can kill and remove whatever a test left. Importing this module
 * registers {@link cleanup} with afterEach for the importing test file (vitest evaluates
 * it afresh for each file), so no test file has to.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";
import type { JsonObject } from "../../src/codecs/json-value.js";
import { isProgressEvent, parseEventLine } from "../support/json-event.js";
import { Output } from "../support/output.js";
import { SAMPLE_DICT } from "../support/samples.js";
import { TempDirs } from "../support/temp-dirs.js";
import { withTimeout } from "../support/with-timeout.js";

export { exists } from "../support/exists.js";
export { SAMPLES, SAMPLE_DICT, SAMPLE_IMAGE, SAMPLE_TEXT } from "../support/samples.js";
export { sha256 } from "../support/sha256.js";
export { withTimeout };

export const ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const SERVER_BIN = path.join(ROOT, "bin", "gb-server.cjs");
export const CLIENT_BIN = path.join(ROOT, "bin", "gb-client.cjs");

/** samples/data.json, parsed. */
export const sample = JSON.parse(await readFile(SAMPLE_DICT, "utf8")) as JsonObject;

/** Default bound for any single wait (start-up, a client run, a server event). */
export const WAIT_MS = 15_000;
/** How long a child gets to exit after SIGTERM before it is sent SIGKILL. */
const KILL_GRACE_MS = 3_000;

const children = new Set<ChildProcess>();
const tempDirs = new TempDirs();
const sockets = new Set<Socket>();

/** A fresh temporary directory, removed by {@link cleanup}. */
export function tempDir(prefix = "gb-e2e-"): Promise<string> {
  return tempDirs.make(prefix);
}

/** Registers a raw socket so {@link cleanup} destroys it. */
export function trackSocket(socket: Socket): Socket {
  sockets.add(socket);
  socket.once("close", () => sockets.delete(socket));
  return socket;
}

/** Kills every child still running (SIGTERM, then SIGKILL), then removes temp dirs. */
async function cleanup(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all([...children].map((child) => terminate(child)));
  children.clear();
  await tempDirs.removeAll();
}

afterEach(cleanup);

async function terminate(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  child.kill("SIGTERM");
  if (await within(exited, KILL_GRACE_MS)) return;
  child.kill("SIGKILL");
  await within(exited, KILL_GRACE_MS);
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** True when `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * An environment for one server/client pair: a fresh XDG_CONFIG_HOME (so the real home
 * is never touched; the server creates its key file there and the client reads it),
 * NO_COLOR, and nothing inherited that would change the programs' behaviour.
 */
export async function freshEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env["FORCE_COLOR"];
  delete env["GB_PASSPHRASE"];
  delete env["NODE_OPTIONS"];
  env["XDG_CONFIG_HOME"] = await tempDir("gb-e2e-config-");
  env["NO_COLOR"] = "1";
  return { ...env, ...extra };
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves once the child exited and its output streams closed. */
function closed(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once("close", (code, signal) => {
      resolve({ code, signal });
    });
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly stdout: Output;
  readonly stderr: Output;
  /** The server's `listening` event (with --json), else undefined. */
  readonly listening: Record<string, unknown> | undefined;
  /** Waits for a JSON event on stdout matching `match` (with --json). */
  waitForEvent(
    match: (event: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
  /** Sends `signal` and waits (bounded) for the server to exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  /** Resolves when the process has exited and its streams closed. */
  readonly exited: Promise<Exit>;
}

export interface SpawnOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Working directory; a fresh temp dir when omitted, so ./received never lands in the repo. */
  readonly cwd?: string;
}

/**
 * Starts gb-server on 127.0.0.1 with --port 0 and waits for its readiness signal:
 * the `listening` JSON line on stdout with --json, else the `gb-server listening on
 * 127.0.0.1:N` line on stderr.
 */
export async function startServer(args: string[], options: SpawnOptions): Promise<ServerProcess> {
  const cwd = options.cwd ?? (await tempDir("gb-e2e-cwd-"));
  const child = spawn(
    process.execPath,
    [SERVER_BIN, "--host", "127.0.0.1", "--port", "0", ...args],
    { cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  const exited = closed(child);
  void exited.then(() => children.delete(child));
  const stdout = new Output(child.stdout, WAIT_MS);
  const stderr = new Output(child.stderr, WAIT_MS);

  let port: number;
  let listening: Record<string, unknown> | undefined;
  const failedToStart = exited.then((exit) => {
    throw new Error(
      `gb-server exited (${String(exit.code ?? exit.signal)}) before listening:\n${stderr.text}`,
    );
  });
  if (args.includes("--json")) {
    listening = await Promise.race([
      stdout.waitFor(
        (out) => out.json.find((event) => event["event"] === "listening"),
        "the listening event",
      ),
      failedToStart,
    ]);
    port = Number(listening["port"]);
  } else {
    port = await Promise.race([
      stderr.waitFor((err) => {
        const match = /gb-server listening on 127\.0\.0\.1:(\d+)/.exec(err.text);
        return match === null ? undefined : Number(match[1]);
      }, "the listening line"),
      failedToStart,
    ]);
  }
  expect(port).toBeGreaterThan(0);

  return {
    child,
    port,
    stdout,
    stderr,
    listening,
    exited,
    waitForEvent: (match, what) =>
      stdout.waitFor((out) => out.json.find(match), `server event: ${what}`),
    stop: async (signal = "SIGTERM") => {
      if (!hasExited(child)) child.kill(signal);
      return withTimeout(exited, WAIT_MS, `gb-server to exit after ${signal}`);
    },
  };
}

export interface SavingServer {
  /** The server's environment; a client run with it shares the server's key file. */
  readonly env: NodeJS.ProcessEnv;
  readonly saveDir: string;
  readonly server: ServerProcess;
}

/**
 * The set-up most tests share: a {@link freshEnv} (plus `extraEnv`), a fresh save
 * directory, and gb-server started with `args` and `--save-dir` that directory.
 */
export async function startSavingServer(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<SavingServer> {
  const env = await freshEnv(extraEnv);
  const saveDir = await tempDir("gb-e2e-save-");
  const server = await startServer([...args, "--save-dir", saveDir], { env });
  return { env, saveDir, server };
}

export interface ClientResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBuffer: Buffer;
}

export type RunOptions = SpawnOptions & {
  readonly input?: Buffer | string;
  readonly timeoutMs?: number;
};

/** Runs gb-client to completion (bounded), feeding `input` on stdin when given. */
export function runClient(args: string[], options: RunOptions): Promise<ClientResult> {
  return runProgram(CLIENT_BIN, args, options);
}

/**
 * Runs gb-server with `args` as given (no --host/--port added) for a run expected to end
 * by itself: usage errors, --help, start-up failures.
 */
export function runServerToExit(args: string[], options: RunOptions): Promise<ClientResult> {
  return runProgram(SERVER_BIN, args, options);
}

async function runProgram(bin: string, args: string[], options: RunOptions): Promise<ClientResult> {
  const running = await spawnProgram(bin, args, {
    ...options,
    stdin: options.input === undefined ? "ignore" : "pipe",
  });
  if (options.input !== undefined) running.child.stdin?.end(options.input);
  return running.result(options.timeoutMs);
}

export interface RunningProgram {
  readonly child: ChildProcess;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Waits (bounded) for the program to exit and returns what it wrote. */
  result(timeoutMs?: number): Promise<ClientResult>;
}

/** Starts gb-client with stdin as a pipe the test writes to and ends itself. */
export function startClient(args: string[], options: SpawnOptions): Promise<RunningProgram> {
  return spawnProgram(CLIENT_BIN, args, { ...options, stdin: "pipe" });
}

async function spawnProgram(
  bin: string,
  args: string[],
  options: SpawnOptions & { readonly stdin: "pipe" | "ignore" },
): Promise<RunningProgram> {
  const cwd = options.cwd ?? (await tempDir("gb-e2e-cwd-"));
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: options.env,
    stdio: [options.stdin, "pipe", "pipe"],
  });
  children.add(child);
  const exited = closed(child);
  void exited.then(() => children.delete(child));
  child.stdin?.on("error", () => undefined); // the program may exit without reading it all
  const stdout = new Output(child.stdout, WAIT_MS);
  const stderr = new Output(child.stderr, WAIT_MS);
  return {
    child,
    stdout,
    stderr,
    result: async (timeoutMs = WAIT_MS) => {
      const exit = await withTimeout(
        exited,
        timeoutMs,
        `${path.basename(bin)} ${args.join(" ")}\nstdout:\n${stdout.text}\nstderr:\n${stderr.text}`,
      );
      return { ...exit, stdout: stdout.text, stderr: stderr.text, stdoutBuffer: stdout.buffer };
    },
  };
}

/** Polls `condition` every 20 ms until it holds; rejects after `ms`. */
export async function waitUntil(
  condition: () => Promise<boolean> | boolean,
  what: string,
  ms = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Parses each `{...}` line of a client's --json output, without its `progress` events;
 * each event's `time` is checked and removed.
 */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map(parseEventLine)
    .filter((event) => !isProgressEvent(event));
}

/**
 * The item events (`stored`, `failed`) of a client's --json output: without the
 * `session` event an encrypted session starts with, nor `progress` events.
 */
export function itemEvents(text: string): Record<string, unknown>[] {
  return jsonLines(text).filter((event) => event["event"] !== "session");
}

/** Writes a valid key file (header line, 64 hex digits, newline) with `mode`. */
export async function writeKeyFile(file: string, mode = 0o600): Promise<Buffer> {
  const key = randomBytes(32);
  await writeFile(file, `# gb-transfer key v1 - keep this file secret\n${key.toString("hex")}\n`, {
    mode,
  });
  await chmod(file, mode); // independent of the umask
  return key;
}

/** A port nothing listens on: bound on port 0 by node:net, then released. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await withTimeout(
    new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)),
    WAIT_MS,
    "a free port",
  );
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return address.port;
}

/** A documented gb-server exit code per `gb-server --help`. */
export const SERVER_EXIT_CODES = [0, 1, 2, 3, 5, 7, 130] as const;
