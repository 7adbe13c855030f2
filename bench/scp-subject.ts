/**
 * The scp baseline of case 2: OpenSSH's scp with AES-256-GCM to an sshd of the
 * benchmark's own on 127.0.0.1, writing into the work directory.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { verifyAndClearDir, type SourceFile } from "./files.js";
import type { Subject } from "./interleave.js";
import { waitUntilChildless } from "./process-tree.js";
import { serverPids, start, type BenchContext } from "./programs.js";
import type { CaseResult } from "./results.js";
import {
  scpArgs,
  sshSession,
  startSshDaemon,
  stopSshDaemon,
  type SshDaemon,
} from "./ssh-daemon.js";
import { megabytesPerSecond } from "./stats.js";
import { missingToolsReason } from "./tools.js";

/** How long sshd's processes for a connection may outlive scp. */
const CONNECTION_END_MS = 10_000;

/**
 * Whether every process sshd forks for a connection is reaped by sshd or by one it
 * reaps, so that its CPU time reaches sshd's figures. Only for a root login: for any
 * other user sshd forks the post-login process from a privileged monitor, which exits
 * without waiting for it; that process (which decrypts, with the one writing the file
 * under it) is then reaped by init and its time is lost.
 */
export function sshdReapsEverything(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Timed from scp's start to its exit: connection, key exchange and login included, as
 * gb-client's own connection set-up is. scp exits once the server has closed the file.
 */
export function scpSubject(context: BenchContext, source: SourceFile, result: CaseResult): Subject {
  const { tools } = context;
  const outDir = path.join(context.work, "scp");
  const missing = [
    tools.sshd === null ? "sshd" : null,
    tools.scp === null ? "scp" : null,
    tools.sshKeygen === null ? "ssh-keygen" : null,
  ].filter((name) => name !== null);
  let daemon: SshDaemon | null = null;
  const cpuPids = (): readonly number[] => serverPids(daemon);
  const countsCpu = sshdReapsEverything();
  result.details["scpCpuCounted"] = countsCpu;
  return {
    name: "scp",
    skip: missing.length === 0 ? null : missingToolsReason(missing, "scp"),
    // sshd forks a process tree per connection; its CPU time counts once sshd reaped it.
    ...(countsCpu ? { cpuPids } : {}),
    setup: async () => {
      if (tools.sshd === null || tools.sshKeygen === null) throw new Error("sshd is missing");
      await mkdir(outDir, { recursive: true });
      daemon = await startSshDaemon(
        context,
        tools.sshd,
        tools.sshKeygen,
        path.join(context.work, "ssh"),
      );
      result.details["openssh"] = tools.openssh;
      if (daemon.createdDir !== null) result.details["sshdCreatedDir"] = daemon.createdDir;
    },
    measure: async () => {
      if (daemon === null || tools.scp === null) throw new Error("sshd is not running");
      const client = start(
        context,
        "scp",
        tools.scp,
        scpArgs({
          port: daemon.port,
          identity: daemon.identity,
          source: source.path,
          user: daemon.user,
          destinationDir: outDir,
        }),
      );
      const exit = await client.exited;
      if (exit.code !== 0) {
        // scp only says that the login failed; sshd's log says why (a locked account).
        const said = daemon.child.tail("stderr").trim().split("\n").slice(-3).join(" | ");
        throw new Error(`scp: ${client.describeExit(exit)}; sshd: ${said}`);
      }
      const milliseconds = exit.at - client.startedAt;
      const pid = daemon.child.process.pid;
      if (pid !== undefined) {
        await waitUntilChildless(pid, "sshd", CONNECTION_END_MS, context.signal);
      }
      const session = sshSession(client.head("stderr"));
      result.details["scpCipher"] = session.cipher;
      result.details["scpProtocol"] = session.protocol;
      await verifyAndClearDir(outDir, source, context.signal);
      return megabytesPerSecond(source.bytes, milliseconds);
    },
    teardown: async () => {
      if (daemon !== null) await stopSshDaemon(daemon);
    },
  };
}
