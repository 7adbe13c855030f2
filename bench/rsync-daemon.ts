/**
 * An rsync daemon of the benchmark's own, for the rsync baseline: its own rsyncd.conf with
 * one writable module in the work directory, listening on 127.0.0.1 only, in the
 * foreground; the client sends to rsync://127.0.0.1:PORT/MODULE/.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Child } from "./children.js";
import { describeError } from "./interleave.js";
import { onFreePort, waitForLocalListener } from "./local-port.js";
import { waitUntilChildless } from "./process-tree.js";
import {
  READY_TIMEOUT_MS,
  STOP_GRACE_MS,
  killChild,
  start,
  type BenchContext,
} from "./programs.js";
import { versionAtLeast } from "./tools.js";

/** The module files are sent to. */
export const RSYNC_MODULE = "gb-bench";

/** Tries at starting the daemon, each on a fresh port (another process may take one first). */
const START_ATTEMPTS = 3;

/** The first rsync with `--debug=NSTR`, which says which checksum the two ends chose. */
const NSTR_DEBUG_VERSION = [3, 2, 0] as const;

export interface RsyncdConfigOptions {
  /** Where the module's files go. */
  readonly moduleDir: string;
  /**
   * The ids the daemon writes as when it runs as root (by default it would switch to
   * nobody, who cannot write into the work directory); null when it does not.
   */
  readonly runAs: { readonly uid: number; readonly gid: number } | null;
}

/** The text of rsyncd.conf for {@link startRsyncDaemon}. */
export function rsyncdConfig(options: RsyncdConfigOptions): string {
  const dir = options.moduleDir;
  // A value runs to the end of its line, trimmed; "%VAR%" is replaced from the environment.
  if (/[\r\n%]/.test(dir) || dir.trim() !== dir || !path.isAbsolute(dir)) {
    throw new Error(`cannot write this path into rsyncd.conf: ${JSON.stringify(dir)}`);
  }
  const lines = [
    "# rsync daemon for one benchmark run, started with --config: no other file is read.",
    "use chroot = no",
    "reverse lookup = no",
  ];
  if (options.runAs !== null) {
    lines.push(`uid = ${options.runAs.uid}`, `gid = ${options.runAs.gid}`);
  }
  lines.push(`[${RSYNC_MODULE}]`, `    path = ${dir}`, "    read only = no", "");
  return lines.join("\n");
}

/** The daemon's arguments: foreground, 127.0.0.1 only, its log on standard error. */
export function rsyncDaemonArgs(configFile: string, port: number): string[] {
  return [
    "--daemon",
    "--no-detach",
    "--config",
    configFile,
    "--port",
    String(port),
    "--address",
    "127.0.0.1",
    "--log-file=/dev/stderr",
  ];
}

export interface RsyncClientOptions {
  readonly source: string;
  readonly port: number;
  /** rsync's version, to ask it for the negotiated checksum where it can say. */
  readonly version: string | null;
}

/**
 * The client's arguments: the whole file, not its differences, and no compression, as gb
 * sends a file.
 */
export function rsyncClientArgs(options: RsyncClientOptions): string[] {
  const args = ["--whole-file"];
  if (options.version !== null && versionAtLeast(options.version, NSTR_DEBUG_VERSION)) {
    args.push("--debug=NSTR");
  }
  args.push(options.source, `rsync://127.0.0.1:${options.port}/${RSYNC_MODULE}/`);
  return args;
}

/** The checksum named in rsync's "Client negotiated checksum: xxh128" line, or null. */
export function rsyncNegotiatedChecksum(log: string): string | null {
  return /negotiated checksum: (\S+)/.exec(log)?.[1] ?? null;
}

export interface RsyncDaemon {
  readonly child: Child;
  readonly port: number;
}

/**
 * Starts the rsync daemon with its configuration in `dir` and its module in `moduleDir`
 * (both created), on a free port, and waits until it accepts connections.
 */
export async function startRsyncDaemon(
  context: BenchContext,
  rsync: string,
  dir: string,
  moduleDir: string,
): Promise<RsyncDaemon> {
  await mkdir(dir, { recursive: true });
  await mkdir(moduleDir, { recursive: true });
  const configFile = path.join(dir, "rsyncd.conf");
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  const runAs = uid === 0 && gid !== undefined ? { uid, gid } : null;
  await writeFile(configFile, rsyncdConfig({ moduleDir, runAs }));

  const attempt = async (port: number): Promise<RsyncDaemon> => {
    const child = start(context, "rsync daemon", rsync, rsyncDaemonArgs(configFile, port), {
      lifetime: "case",
    });
    try {
      // Its start-up line comes before it binds: a connection tells that it listens.
      await waitForLocalListener(port, {
        timeoutMs: READY_TIMEOUT_MS,
        signal: context.signal,
        alive: () => child.running,
        label: "rsync daemon",
      });
      const pid = child.process.pid;
      // The process it forked for that probe goes before the first repetition, whose CPU
      // time would count it otherwise.
      if (pid !== undefined) {
        await waitUntilChildless(pid, "rsync daemon", READY_TIMEOUT_MS, context.signal);
      }
      return { child, port };
    } catch (error) {
      await killChild(child);
      const exit = await child.exited;
      throw new Error(`${describeError(error)} (${child.describeExit(exit)})`);
    }
  };
  return onFreePort(START_ATTEMPTS, attempt);
}

/** Stops the daemon (its connections have ended by then); SIGKILL if it lingers. */
export async function stopRsyncDaemon(daemon: RsyncDaemon): Promise<void> {
  await daemon.child.stop("SIGTERM", STOP_GRACE_MS);
}
