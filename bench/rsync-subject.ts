/**
 * The rsync baseline of case 1: the rsync client sending the whole file to an rsync
 * daemon of the benchmark's own on 127.0.0.1, writing into the work directory.
 */
import path from "node:path";
import { verifyAndClearDir, type SourceFile } from "./files.js";
import type { Subject } from "./interleave.js";
import { waitUntilChildless } from "./process-tree.js";
import { serverPids, start, type BenchContext } from "./programs.js";
import type { CaseResult } from "./results.js";
import {
  rsyncClientArgs,
  rsyncNegotiatedChecksum,
  startRsyncDaemon,
  stopRsyncDaemon,
  type RsyncDaemon,
} from "./rsync-daemon.js";
import { megabytesPerSecond } from "./stats.js";
import { missingToolsReason } from "./tools.js";

/** How long the daemon's processes for a connection may outlive the client. */
const CONNECTION_END_MS = 10_000;

/** What one rsync subject sends, and how its repetition is checked and scored. */
export interface RsyncRun {
  /** Names, under the run's work directory, of the daemon's own directory and its output. */
  readonly daemonDir: string;
  readonly outDir: string;
  /** The rsync client's arguments, given the daemon's port and rsync's version (if known). */
  readonly clientArgs: (port: number, version: string | null) => string[];
  /**
   * Checks what arrived in `outDir` and clears it, then scores the repetition from how
   * long the client ran; `output` is the start of the client's stdout and stderr.
   */
  readonly scored: (outDir: string, milliseconds: number, output: string) => Promise<number>;
}

/**
 * An rsync client sending to an rsync daemon of the benchmark's own on 127.0.0.1,
 * writing into the work directory. Timed from the client's start to its exit, which comes
 * after the daemon has written what it received (to temporary names, then renamed) and
 * said so; the daemon's processes for the connection are waited for before the check.
 */
export function rsyncSubject(context: BenchContext, result: CaseResult, run: RsyncRun): Subject {
  const rsync = context.tools.rsync;
  const outDir = path.join(context.work, run.outDir);
  let daemon: RsyncDaemon | null = null;
  return {
    name: "rsync-daemon",
    skip: rsync === null ? missingToolsReason(["rsync"], "an rsync daemon") : null,
    setup: async () => {
      if (rsync === null) throw new Error("rsync is missing");
      daemon = await startRsyncDaemon(
        context,
        rsync.path,
        path.join(context.work, run.daemonDir),
        outDir,
      );
      result.details["rsyncVersion"] = rsync.version;
    },
    // The daemon forks processes per connection; the CPU figure counts them once reaped.
    cpuPids: () => serverPids(daemon),
    measure: async () => {
      if (daemon === null || rsync === null) throw new Error("the rsync daemon is not running");
      const client = start(
        context,
        "rsync",
        rsync.path,
        run.clientArgs(daemon.port, rsync.version),
      );
      const exit = await client.succeeded();
      const milliseconds = exit.at - client.startedAt;
      const pid = daemon.child.process.pid;
      if (pid !== undefined) {
        await waitUntilChildless(pid, "rsync daemon", CONNECTION_END_MS, context.signal);
      }
      const output = `${client.head("stdout")}\n${client.head("stderr")}`;
      return run.scored(outDir, milliseconds, output);
    },
    teardown: async () => {
      if (daemon !== null) await stopRsyncDaemon(daemon);
    },
  };
}

/** The rsync baseline of case 1: the whole file, as gb sends it. */
export function rsyncDaemonSubject(
  context: BenchContext,
  source: SourceFile,
  result: CaseResult,
): Subject {
  return rsyncSubject(context, result, {
    daemonDir: "rsyncd",
    outDir: "rsync",
    clientArgs: (port, version) => rsyncClientArgs({ source: source.path, port, version }),
    scored: async (outDir, milliseconds, output) => {
      result.details["rsyncChecksum"] = rsyncNegotiatedChecksum(output);
      await verifyAndClearDir(outDir, source, context.signal);
      return megabytesPerSecond(source.bytes, milliseconds);
    },
  });
}
