/**
 * Cases 1 and 2: one large file, plain (gb against socat, a Node pipe and an rsync
 * daemon) and encrypted (gb --encrypt against socat over TLS 1.3 and scp). Throughput in
 * MB/s; the received copy is checked (size, SHA-256) and deleted after each repetition,
 * outside the timing.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Child } from "./children.js";
import { cpuCeilingRange, cpuCeilingRatio } from "./cpu-time.js";
import { cryptoPassSeconds } from "./crypto-cost.js";
import { verifyAndClearDir, type SourceFile } from "./files.js";
import { medianOf, runInterleaved, type Subject } from "./interleave.js";
import {
  GB_CLIENT,
  benchScript,
  killChild,
  serverPids,
  start,
  startBaselineServer,
  startGbServer,
  startNode,
  stopGbServer,
  type BenchContext,
  type StartedServer,
} from "./programs.js";
import { newCase, ratioResult, type CaseResult } from "./results.js";
import { rsyncDaemonSubject } from "./rsync-subject.js";
import { scpSubject } from "./scp-subject.js";
import { formatFigure, formatRatio, formatSize, megabytesPerSecond, type Goal } from "./stats.js";

/** socat's buffer size for these transfers. */
const SOCAT_BUFFER_BYTES = "131072";

/** How long socat may take to say it is listening. */
const SOCAT_READY_MS = 10_000;

export const SOCAT_MISSING =
  "socat not found: install it (e.g. apt-get install socat) to compare against it";
export const OPENSSL_MISSING =
  "openssl not found: install it (e.g. apt-get install openssl) to compare against socat over TLS";

/** The port in socat's `-d -d` line "listening on AF=2 127.0.0.1:PORT". */
export function socatListeningPort(line: string): number | undefined {
  const match = /\blistening on .*:(\d+)\s*$/.exec(line);
  if (match === null) return undefined;
  const port = Number(match[1]);
  return port > 0 && port < 65536 ? port : undefined;
}

/** What socat's `-d -d` log says about the TLS session it negotiated. */
export function socatTlsSession(log: string): { protocol: string | null; cipher: string | null } {
  const protocol = /SSL proto version used: (\S+)/.exec(log)?.[1] ?? null;
  const cipher = /SSL connection using (\S+)/.exec(log)?.[1] ?? null;
  return { protocol, cipher };
}

function gbSubject(
  context: BenchContext,
  source: SourceFile,
  encrypted: boolean,
  name: string,
): Subject {
  const saveDir = path.join(context.work, "gb");
  let server: StartedServer | null = null;
  return {
    name,
    skip: null,
    setup: async () => {
      await mkdir(saveDir, { recursive: true });
      server = await startGbServer(context, { saveDir });
    },
    cpuPids: () => serverPids(server),
    measure: async () => {
      if (server === null) throw new Error("gb-server is not running");
      const args = [GB_CLIENT, "--port", String(server.port), "--file", source.path];
      if (encrypted) args.push("--encrypt", "--key-file", context.keyFile);
      const client = startNode(context, "gb-client", args);
      const exit = await client.succeeded();
      const milliseconds = exit.at - client.startedAt;
      await verifyAndClearDir(saveDir, source, context.signal);
      return megabytesPerSecond(source.bytes, milliseconds);
    },
    teardown: async () => {
      if (server !== null) await stopGbServer(server);
    },
  };
}

interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

function socatSubject(
  context: BenchContext,
  source: SourceFile,
  tls: boolean,
  result: CaseResult,
): Subject {
  const outDir = path.join(context.work, "socat");
  const output = path.join(outDir, "out");
  let tlsFiles: TlsFiles | null = null;
  let skip: string | null = null;
  if (context.tools.socat === null) skip = SOCAT_MISSING;
  else if (tls && context.tools.openssl === null) skip = OPENSSL_MISSING;
  return {
    name: tls ? "socat-TLS" : "socat",
    skip,
    // Both socat processes live for one repetition and are waited for.
    cpuPids: () => [],
    setup: async () => {
      await mkdir(outDir, { recursive: true });
      if (!tls) return;
      const tlsDir = path.join(context.work, "tls");
      await mkdir(tlsDir, { recursive: true });
      const files = { cert: path.join(tlsDir, "cert.pem"), key: path.join(tlsDir, "key.pem") };
      const openssl = start(context, "openssl", "openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-keyout",
        files.key,
        "-out",
        files.cert,
      ]);
      await openssl.succeeded();
      tlsFiles = files;
    },
    measure: async () => {
      let listen = "TCP-LISTEN:0,bind=127.0.0.1";
      let connect = (port: number): string => `TCP:127.0.0.1:${port}`;
      if (tls) {
        if (tlsFiles === null) throw new Error("no TLS certificate");
        const tlsOptions = "verify=0,openssl-min-proto-version=TLS1.3";
        listen = `OPENSSL-LISTEN:0,bind=127.0.0.1,cert=${tlsFiles.cert},key=${tlsFiles.key},${tlsOptions}`;
        connect = (port) => `OPENSSL:127.0.0.1:${port},${tlsOptions}`;
      }
      const receiver = start(context, "socat receiver", "socat", [
        "-d",
        "-d",
        "-u",
        "-b",
        SOCAT_BUFFER_BYTES,
        listen,
        `CREATE:${output}`,
      ]);
      let sender: Child | null = null;
      try {
        const port = await receiver.waitForLine("stderr", socatListeningPort, SOCAT_READY_MS);
        sender = start(context, "socat sender", "socat", [
          "-u",
          "-b",
          SOCAT_BUFFER_BYTES,
          `OPEN:${source.path}`,
          connect(port),
        ]);
        const [sent, received] = await Promise.all([sender.succeeded(), receiver.succeeded()]);
        const milliseconds = Math.max(sent.at, received.at) - sender.startedAt;
        if (tls) {
          const session = socatTlsSession(receiver.head("stderr"));
          result.details["socatTlsProtocol"] = session.protocol;
          result.details["socatTlsCipher"] = session.cipher;
        }
        await verifyAndClearDir(outDir, source, context.signal);
        return megabytesPerSecond(source.bytes, milliseconds);
      } finally {
        await killChild(receiver);
        if (sender !== null) await killChild(sender);
      }
    },
  };
}

function nodePipeSubject(context: BenchContext, source: SourceFile): Subject {
  const outDir = path.join(context.work, "node");
  let server: StartedServer | null = null;
  return {
    name: "node",
    skip: null,
    setup: async () => {
      await mkdir(outDir, { recursive: true });
      server = await startBaselineServer(context, "pipe-server", ["--out-dir", outDir]);
    },
    cpuPids: () => serverPids(server),
    measure: async () => {
      if (server === null) throw new Error("pipe-server is not running");
      const client = startNode(context, "pipe-client", [
        benchScript("pipe-client"),
        "--port",
        String(server.port),
        "--file",
        source.path,
      ]);
      const exit = await client.succeeded();
      const milliseconds = exit.at - client.startedAt;
      await verifyAndClearDir(outDir, source, context.signal);
      return megabytesPerSecond(source.bytes, milliseconds);
    },
    teardown: async () => {
      if (server !== null) await killChild(server.child);
    },
  };
}

/**
 * SHA-256 passes gb makes over a file that socat does not: at both ends on a plain
 * connection (the client checks the receipt's digest), at the server's end only in an
 * encrypted session, whose records already prove the bytes arrived as sent
 * [K-RECEIPT-SESSION].
 */
export function gbSha256Passes(encrypted: boolean): number {
  return encrypted ? 1 : 2;
}

/**
 * An estimate of what the machine allows, assuming gb moves bytes no more cheaply than
 * socat: gb then needs at least the CPU of the socat baseline (the same bytes read, sent,
 * received and written; over TLS, AES-256-GCM at both ends too, at OpenSSL's own price)
 * plus the SHA-256 passes of the receipt ({@link gbSha256Passes}), which socat does not
 * compute. Spread over
 * every core with none idle, that CPU time bounds gb's wall time from below, and so its
 * ratio to socat from above. The cost of one cryptographic pass is measured here, in
 * this process.
 */
function addCpuCeiling(
  context: BenchContext,
  result: CaseResult,
  source: SourceFile,
  baselineName: string,
  encrypted: boolean,
): void {
  if (context.signal.aborted) return;
  context.progress(`case ${result.id}: measuring what SHA-256 and AES-256-GCM cost here`);
  const sha256 = cryptoPassSeconds("sha256", source.bytes);
  result.details["sha256PassCpuSeconds"] = sha256;
  const passes = [`SHA-256 ${formatFigure(sha256)} s`];
  if (encrypted) {
    const aes = cryptoPassSeconds("aes-256-gcm", source.bytes);
    result.details["aesGcmPassCpuSeconds"] = aes;
    passes.push(`AES-256-GCM ${formatFigure(aes)} s`);
  }
  result.notes.push(
    `CPU of one pass over the file in Node, measured in this run: ${passes.join(", ")}; ${
      encrypted
        ? "gb encrypts and decrypts at the two ends, and hashes at the server's only (the client takes the authenticated receipt's SHA-256)"
        : "gb hashes at both ends (the client checks the receipt's SHA-256)"
    }; socat computes no SHA-256`,
  );
  const hashPasses = gbSha256Passes(encrypted);
  const baseline = result.subjects.find((subject) => subject.name === baselineName);
  const baselineCpu = baseline?.cpuMedian ?? null;
  const baselineRate = baseline?.median ?? null;
  if (baseline === undefined || baselineCpu === null || baselineRate === null) return;
  if (baselineRate <= 0) return;
  const cores = os.availableParallelism();
  const floor = baselineCpu + hashPasses * sha256;
  const ceiling = cpuCeilingRatio(source.bytes / 1e6 / baselineRate, floor, cores);
  if (ceiling === null) return;
  const range = cpuCeilingRange(
    source.bytes,
    baseline.samples,
    baseline.cpuSeconds,
    hashPasses * sha256,
    cores,
  );
  if (range !== null) result.details["cpuCeilingRange"] = range;
  const gbName = encrypted ? "gb --encrypt" : "gb";
  result.ratios.push({
    name: `${gbName}/${baselineName}, CPU ceiling`,
    value: ceiling,
    goal: null,
    met: null,
  });
  const perRepetition =
    range === null
      ? ""
      : ` (per repetition of ${baselineName}: ${formatRatio(range.min)} to ${formatRatio(range.max)})`;
  const aesPrice = encrypted
    ? "; it counts AES-256-GCM at OpenSSL's price, which is below Node's, so it is optimistic"
    : "";
  result.notes.push(
    `CPU ceiling, an estimate: if gb moves bytes no more cheaply than ${baselineName} (${formatFigure(baselineCpu)} s of CPU), with ${hashPasses === 1 ? "one SHA-256 pass" : `${hashPasses} SHA-256 passes`} it needs ${formatFigure(floor)} s; on ${cores} cores that takes at least ${formatFigure(floor / cores)} s, so ${gbName}/${baselineName} stays below ${formatRatio(ceiling)}${perRepetition}${aesPrice}`,
  );
}

/** gb's throughput over socat's, plain (case 1). */
export const GB_OVER_SOCAT_GOAL: Goal = { op: ">=", value: 0.9 };
/** gb --encrypt's throughput over socat's over TLS (case 2). */
export const GB_OVER_SOCAT_TLS_GOAL: Goal = { op: ">=", value: 1 };
/** gb --encrypt's throughput over scp's (case 2). */
export const GB_OVER_SCP_GOAL: Goal = { op: ">=", value: 1.5 };

/**
 * The ratio rows of a file case, from its subjects' medians: against socat with its goal
 * and, for information, the Node pipe and the rsync daemon (plain); against socat over TLS
 * and scp, each with its goal (encrypted).
 */
export function addFileRatios(result: CaseResult, encrypted: boolean): void {
  if (encrypted) {
    const gb = medianOf(result, "gb --encrypt");
    result.ratios.push(
      ratioResult(
        "gb --encrypt/socat-TLS",
        gb,
        medianOf(result, "socat-TLS"),
        GB_OVER_SOCAT_TLS_GOAL,
      ),
      ratioResult("gb --encrypt/scp", gb, medianOf(result, "scp"), GB_OVER_SCP_GOAL),
    );
    return;
  }
  const gb = medianOf(result, "gb");
  result.ratios.push(
    ratioResult("gb/socat", gb, medianOf(result, "socat"), GB_OVER_SOCAT_GOAL),
    ratioResult("gb/node", gb, medianOf(result, "node"), null),
    ratioResult("gb/rsync-daemon", gb, medianOf(result, "rsync-daemon"), null),
  );
}

function ranOk(result: CaseResult, name: string): boolean {
  const subject = result.subjects.find((entry) => entry.name === name);
  return subject !== undefined && subject.samples.length > 0;
}

function addScpNotes(result: CaseResult): void {
  if (!ranOk(result, "scp")) return;
  const cipher = result.details["scpCipher"];
  const protocol = result.details["scpProtocol"];
  const openssh = result.details["openssh"];
  result.notes.push(
    `scp${typeof openssh === "string" ? ` (${openssh})` : ""} to an sshd of the run's own on 127.0.0.1, cipher ${typeof cipher === "string" ? cipher : "unknown"}, ${typeof protocol === "string" ? `${protocol} protocol` : "protocol unknown"}, no compression; timed with its connection, key exchange and login`,
  );
  if (result.details["scpCpuCounted"] === false) {
    result.notes.push(
      "scp's cpu s is blank: run unprivileged, sshd forks the process that serves the login from a monitor that exits without waiting for it, so that process's CPU time reaches neither sshd nor this run (as root, sshd serves the login in a process it reaps, and it is counted)",
    );
  }
}

function addRsyncNotes(result: CaseResult): void {
  if (!ranOk(result, "rsync-daemon")) return;
  const version = result.details["rsyncVersion"];
  const checksum = result.details["rsyncChecksum"];
  result.notes.push(
    `rsync-daemon: rsync${typeof version === "string" ? ` ${version}` : ""} --whole-file, no compression, to an rsync daemon of the run's own (rsync://127.0.0.1); it checks the file with ${typeof checksum === "string" ? `${checksum} (negotiated)` : "its negotiated checksum"}, gb with SHA-256; the daemon does not fsync the file, gb's server does`,
  );
}

/** Case 1 (plain) or case 2 (encrypted). */
export async function runFileCase(
  context: BenchContext,
  encrypted: boolean,
  repetitions: number,
): Promise<CaseResult> {
  const source = context.large;
  if (source === null) throw new Error("the large source file was not created");
  const size = formatSize(source.bytes);
  const result = encrypted
    ? newCase(2, `encrypted ${size} file`, "MB/s", true)
    : newCase(1, `plain ${size} file`, "MB/s", true);
  result.details["bytes"] = source.bytes;
  result.details["repetitions"] = repetitions;
  const gbName = encrypted ? "gb --encrypt" : "gb";
  const subjects = encrypted
    ? [
        gbSubject(context, source, true, gbName),
        socatSubject(context, source, true, result),
        scpSubject(context, source, result),
      ]
    : [
        gbSubject(context, source, false, gbName),
        socatSubject(context, source, false, result),
        nodePipeSubject(context, source),
        rsyncDaemonSubject(context, source, result),
      ];
  await runInterleaved(context, result, subjects, repetitions);
  addFileRatios(result, encrypted);
  if (encrypted) {
    const cipher = result.details["socatTlsCipher"];
    const protocol = result.details["socatTlsProtocol"];
    if (typeof cipher === "string") {
      result.notes.push(
        `socat negotiated ${typeof protocol === "string" ? protocol : "TLS"} with ${cipher}`,
      );
    }
    result.notes.push(
      "gb encrypts with AES-256-GCM in records of up to 64 KiB (a Noise NNpsk0 session per connection)",
    );
    addScpNotes(result);
  } else {
    addRsyncNotes(result);
  }
  result.notes.push(
    `time: client (sender) spawn to exit; gb's client exits once the server has stored the file and its receipt ${
      encrypted
        ? "came back with the byte count sent (its SHA-256 is the server's, authenticated)"
        : "matched the byte count and SHA-256 sent"
    }`,
    "cpu s: CPU time (user + system) of a repetition, all of the subject's processes (sender, receiver; for scp and rsync the daemon's processes for the connection), median",
  );
  addCpuCeiling(context, result, source, encrypted ? "socat-TLS" : "socat", encrypted);
  for (const subject of result.subjects) {
    if (subject.status === "skipped" && subject.reason !== null) result.notes.push(subject.reason);
  }
  return result;
}
