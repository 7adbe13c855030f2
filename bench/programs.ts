/** The programs the benchmark runs, and what every case gets to run them. */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Child } from "./children.js";
import { onFreePort, waitForLocalListener } from "./local-port.js";
import type { SourceFile } from "./files.js";

/** The repository root, from dist-bench/bench/ where this file is compiled to. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const GB_SERVER = path.join(REPO_ROOT, "bin", "gb-server.cjs");
export const GB_CLIENT = path.join(REPO_ROOT, "bin", "gb-client.cjs");

/** A compiled program next to this file, by its base name ("frame-server"). */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/** The `--import` argument that preloads the peak-RSS probe. */
export function rssProbeImport(): string {
  return pathToFileURL(benchScript("rss-probe")).href;
}

/** How long a server may take to print that it is listening. */
export const READY_TIMEOUT_MS = 30_000;

/** How long a server may take to stop after SIGTERM before it is killed. */
export const STOP_GRACE_MS = 15_000;
/** Ports tried for a quiet gb-server, one taken meanwhile failing its start. */
const PORT_ATTEMPTS = 3;

export interface RunSettings {
  readonly quick: boolean;
  /** Repetitions of the file cases (1, 2). */
  readonly fileReps: number;
  /** Repetitions of the dictionary cases (4, 5). */
  readonly dictReps: number;
  /** Repetitions of the memory case (3). */
  readonly memoryReps: number;
  /** Repetitions of the start-up case (6). */
  readonly startupReps: number;
  readonly largeBytes: number;
  readonly smallBytes: number;
  /** Dictionaries per repetition over one connection (case 4). */
  readonly pipelinedDicts: number;
  /** Dictionaries per repetition, one connection each (case 5). */
  readonly oneShotDicts: number;
  /** Concurrent one-shot loops (case 5). */
  readonly oneShotConcurrency: number;
  /** Files of 4 KiB in the tree of case 8. */
  readonly treeFiles: number;
  /** Repetitions of the tree case (8). */
  readonly treeReps: number;
  /** Time limit of every child process. */
  readonly childTimeoutMs: number;
  /** Time limit of every case. */
  readonly caseTimeoutMs: number;
}

export interface Tools {
  /** socat's version, or null when it is not installed. */
  readonly socat: string | null;
  /** openssl's version, or null when it is not installed. */
  readonly openssl: string | null;
  /** The clock ticks per second of /proc's CPU times, or null when there is no /proc to read. */
  readonly cpuTicksPerSecond: number | null;
  /** sshd's absolute path, or null when it is not installed. */
  readonly sshd: string | null;
  /** scp's absolute path, or null when it is not installed. */
  readonly scp: string | null;
  /** ssh-keygen's absolute path, or null when it is not installed. */
  readonly sshKeygen: string | null;
  /** OpenSSH's version from `ssh -V` ("OpenSSH_9.2p1"), or null when ssh is missing. */
  readonly openssh: string | null;
  /** rsync's absolute path and version ("3.2.7"), or null when it is not installed. */
  readonly rsync: RsyncTool | null;
}

export interface RsyncTool {
  readonly path: string;
  /** Null when `rsync --version` did not say. */
  readonly version: string | null;
}

/** What a case gets: where to work, what to send, and the signal that ends it. */
export interface BenchContext {
  readonly settings: RunSettings;
  readonly tools: Tools;
  readonly work: string;
  /** The key file every gb program uses (never the user's own). */
  readonly keyFile: string;
  /** Environment for children: the user's, with configuration kept inside the work directory. */
  readonly env: NodeJS.ProcessEnv;
  readonly large: SourceFile | null;
  readonly small: SourceFile | null;
  /** Aborts when the run is interrupted or the case runs out of time. */
  readonly signal: AbortSignal;
  /** A progress line on standard error. */
  progress(message: string): void;
}

/**
 * The process of a long-lived server or daemon the run started (none before setup), whose
 * CPU time counts for every repetition it serves; its children count once reaped.
 */
export function serverPids(server: { readonly child: Child } | null): readonly number[] {
  const pid = server?.child.process.pid;
  return pid === undefined ? [] : [pid];
}

export interface StartedServer {
  readonly child: Child;
  readonly port: number;
}

export interface ChildOptions {
  /** Default: the context's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * "task" (default): a client or a tool, bounded by the child time limit; "case": a
   * server that serves the whole case, bounded by the case's time limit.
   */
  readonly lifetime?: "task" | "case";
}

/** Starts a child with the context's signal, time limit and environment. */
export function start(
  context: BenchContext,
  label: string,
  command: string,
  args: readonly string[],
  options: ChildOptions = {},
): Child {
  const { settings } = context;
  return new Child(command, args, {
    label,
    signal: context.signal,
    timeoutMs: options.lifetime === "case" ? settings.caseTimeoutMs : settings.childTimeoutMs,
    env: options.env ?? context.env,
  });
}

/** Starts a Node program with the same Node that runs the benchmark. */
export function startNode(
  context: BenchContext,
  label: string,
  args: readonly string[],
  options: ChildOptions = {},
): Child {
  return start(context, label, process.execPath, args, options);
}

function portFromJsonLine(line: string, event: string | null): number | undefined {
  if (!line.startsWith("{")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  if (event !== null && record["event"] !== event) return undefined;
  const port = record["port"];
  return typeof port === "number" && Number.isInteger(port) && port > 0 ? port : undefined;
}

/** Waits for the JSON line announcing the port; kills the child if it never comes. */
async function readyServer(child: Child, event: string | null): Promise<StartedServer> {
  try {
    const port = await child.waitForLine(
      "stdout",
      (line) => portFromJsonLine(line, event),
      READY_TIMEOUT_MS,
    );
    return { child, port };
  } catch (error) {
    await child.stop("SIGKILL", STOP_GRACE_MS);
    throw error;
  }
}

export interface GbServerOptions {
  /** Receive and verify but store nothing (`--no-save`). */
  readonly noSave?: boolean;
  readonly saveDir: string;
  /** Node options placed before the script (such as the RSS probe's --import). */
  readonly nodeArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Print nothing but errors (`--quiet`, not `--json`): no event per item for the
   * benchmark to read while it measures, as a daemon that does not log each file (the
   * rsync baseline's). Its port is then one picked free and waited for.
   */
  readonly quiet?: boolean;
}

/** Starts gb-server on 127.0.0.1, port 0, with the benchmark's key file; resolves when it listens. */
export function startGbServer(
  context: BenchContext,
  options: GbServerOptions,
): Promise<StartedServer> {
  const start = (port: number, output: readonly string[]): Child =>
    startNode(
      context,
      "gb-server",
      [
        ...(options.nodeArgs ?? []),
        GB_SERVER,
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        ...output,
        "--no-print",
        ...(options.noSave === true ? ["--no-save"] : ["--save-dir", options.saveDir]),
        "--key-file",
        context.keyFile,
      ],
      { env: options.env ?? context.env, lifetime: "case" },
    );
  if (options.quiet !== true) return readyServer(start(0, ["--json"]), "listening");
  return onFreePort(PORT_ATTEMPTS, async (port) => {
    const child = start(port, ["--quiet"]);
    try {
      await waitForLocalListener(port, {
        timeoutMs: READY_TIMEOUT_MS,
        signal: context.signal,
        alive: () => child.running,
        label: "gb-server",
      });
    } catch (error) {
      await child.stop("SIGKILL", STOP_GRACE_MS);
      throw error;
    }
    return { child, port };
  });
}

/** Stops gb-server with SIGTERM; throws unless it exits with code 0 (a graceful stop). */
export async function stopGbServer(server: StartedServer): Promise<void> {
  const info = await server.child.stop("SIGTERM", STOP_GRACE_MS);
  if (info.code !== 0) {
    throw new Error(`gb-server did not stop cleanly: ${server.child.describeExit(info)}`);
  }
}

/** Starts one of the baseline servers in this directory (they print {"port":N}). */
export function startBaselineServer(
  context: BenchContext,
  script: string,
  args: readonly string[],
): Promise<StartedServer> {
  const child = startNode(context, script, [benchScript(script), ...args], { lifetime: "case" });
  return readyServer(child, null);
}

/** Kills a child still running, and waits for it to go. */
export async function killChild(child: Child): Promise<void> {
  if (child.running) await child.stop("SIGKILL", STOP_GRACE_MS);
}
