/**
 * The rsync baseline of case 1: the rsync client sending the whole file to an rsync
 * daemon of the benchmark's own on 127.0.0.1, writing into the work directory.
 */
import path from "node:path";
import { verifyAndClearDir, type SourceFile } from "./files.js";
import type { Subject } from "./interleave.js";
import { waitUntilChildless } from "./process-tree.js";
import { start, type BenchContext } from "./programs.js";
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

/**
 * Timed from the client's start to its exit, which comes after the daemon has written the
 * file (to a temporary name, then renamed) and said so.
 */
export function rsyncDaemonSubject(
  context: BenchContext,
  source: SourceFile,
  result: CaseResult,
): Subject {
  const rsync = context.tools.rsync;
  const outDir = path.join(context.work, "rsync");
  let daemon: RsyncDaemon | null = null;
  return {
    name: "rsync-daemon",
    skip: rsync === null ? missingToolsReason(["rsync"], "an rsync daemon") : null,
    setup: async () => {
      if (rsync === null) throw new Error("rsync is missing");
      daemon = await startRsyncDaemon(
        context,
        rsync.path,
        path.join(context.work, "rsyncd"),
        outDir,
      );
      result.details["rsyncVersion"] = rsync.version;
    },
    // The daemon forks processes per connection; the CPU figure counts them once reaped.
    cpuPids: () => {
      const pid = daemon?.child.process.pid;
      return pid === undefined ? [] : [pid];
    },
    measure: async () => {
      if (daemon === null || rsync === null) throw new Error("the rsync daemon is not running");
      const client = start(
        context,
        "rsync",
        rsync.path,
        rsyncClientArgs({ source: source.path, port: daemon.port, version: rsync.version }),
      );
      const exit = await client.succeeded();
      const milliseconds = exit.at - client.startedAt;
      const pid = daemon.child.process.pid;
      if (pid !== undefined) {
        await waitUntilChildless(pid, "rsync daemon", CONNECTION_END_MS, context.signal);
      }
      result.details["rsyncChecksum"] = rsyncNegotiatedChecksum(
        `${client.head("stdout")}\n${client.head("stderr")}`,
      );
      await verifyAndClearDir(outDir, source, context.signal);
      return megabytesPerSecond(source.bytes, milliseconds);
    },
    teardown: async () => {
      if (daemon !== null) await stopRsyncDaemon(daemon);
    },
  };
}
