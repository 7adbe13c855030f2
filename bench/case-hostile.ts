/**
 * Case 7: a server under hostile load. gb-server at its default settings (printing,
 * saving) while 4 connections send maximal dictionaries (about 16 MiB and up to a
 * million values each, json, msgpack and xml in turn) back to back: its peak RSS, and the
 * p99 latency of a well-behaved client's small dictionaries beside the same latency with
 * no load. Then its RSS once the burst is over, beside its RSS before it.
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Child } from "./children.js";
import {
  GB_SERVER,
  READY_TIMEOUT_MS,
  STOP_GRACE_MS,
  benchScript,
  killChild,
  rssProbeImport,
  startNode,
  type BenchContext,
} from "./programs.js";
import { figureResult, finishSubject, newCase, newSubject, ratioResult } from "./results.js";
import { RSS_FILE_ENV } from "./rss-env.js";
import { formatFigure } from "./stats.js";

/** Peak RSS allowed, in MB. */
const PEAK_RSS_GOAL_MB = 512;
/** p99 latency of a small dictionary under load allowed, in ms. */
const P99_GOAL_MS = 250;
/**
 * How far above its RSS before the burst the server may stay once it is over, in MB: the
 * JavaScript heaps go back to their idle size, but the C library keeps some of what the
 * worker threads allocated (measured: 40-45 MB).
 */
const AFTER_BURST_GOAL_MB = 64;
const LOAD_CONNECTIONS = 4;
/** Time between two small dictionaries of the probe, in ms. */
const PROBE_GAP_MS = 20;
/** How long the server gets to give memory back once the last answer came, in ms. */
const SETTLE_MS = 15_000;
/** How long the loader's connections may take to get their last answers, in ms. */
const LOAD_STOP_MS = 120_000;
/** How often the server's RSS is read while it settles, in ms. */
const SETTLE_POLL_MS = 1000;

function p99(samples: readonly number[]): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/** The current RSS of a process in MB (Linux /proc), or null elsewhere. */
async function currentRssMb(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match === null ? null : (Number(match[1]) * 1024) / 1e6;
  } catch {
    return null;
  }
}

async function probe(context: BenchContext, port: number, count: number): Promise<number[]> {
  const child = startNode(context, "probe", [
    benchScript("hostile-client"),
    "probe",
    "--port",
    String(port),
    "--count",
    String(count),
    "--gap",
    String(PROBE_GAP_MS),
  ]);
  await child.succeeded();
  const line = child.tail("stdout").trim().split("\n").pop() ?? "";
  const parsed = JSON.parse(line) as { latenciesMs?: unknown; failed?: unknown };
  const latencies = parsed.latenciesMs;
  if (!Array.isArray(latencies) || parsed.failed !== 0) {
    throw new Error(`the probe failed: ${line.slice(0, 200)}`);
  }
  return latencies.filter((value): value is number => typeof value === "number");
}

async function startServer(context: BenchContext, saveDir: string, rssFile: string) {
  const child = startNode(
    context,
    "gb-server",
    [
      "--import",
      rssProbeImport(),
      GB_SERVER,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--save-dir",
      saveDir,
      "--key-file",
      context.keyFile,
    ],
    { env: { ...context.env, [RSS_FILE_ENV]: rssFile }, lifetime: "case" },
  );
  const port = await child.waitForLine(
    "stderr",
    (line) => {
      const match = /listening on [^ ]+:(\d+) /.exec(line);
      return match === null ? undefined : Number(match[1]);
    },
    READY_TIMEOUT_MS,
  );
  return { child, port };
}

export async function runHostileCase(context: BenchContext): Promise<ReturnType<typeof newCase>> {
  const result = newCase(7, "hostile load", "ms / MB", false);
  const idleCount = context.settings.quick ? 50 : 150;
  const loadCount = context.settings.quick ? 100 : 400;
  const saveDir = path.join(context.work, "hostile");
  await mkdir(saveDir, { recursive: true });
  const rssFile = path.join(context.work, "rss-hostile-server");
  await rm(rssFile, { force: true });
  const idleLatency = newSubject("small dict latency, no load (p99 ms)");
  const loadLatency = newSubject(
    `small dict latency, ${LOAD_CONNECTIONS} maximal senders (p99 ms)`,
  );
  const rssIdle = newSubject("server RSS before (MB)");
  const rssAfter = newSubject("server RSS after the burst (MB)");
  const rssPeak = newSubject("server peak RSS (MB)");
  const { child: server, port } = await startServer(context, saveDir, rssFile);
  let loader: Child | undefined;
  try {
    const idle = await probe(context, port, idleCount);
    idleLatency.samples.push(p99(idle) ?? Number.NaN);
    const before = await currentRssMb(server.process.pid);
    if (before !== null) rssIdle.samples.push(before);
    context.progress(`case 7: no load, p99 ${formatFigure(p99(idle) ?? 0)} ms`);

    loader = startNode(
      context,
      "loader",
      [benchScript("hostile-client"), "load", "--port", String(port)],
      { lifetime: "case" },
    );
    await loader.waitForLine(
      "stdout",
      (line) => (line.includes("ready") ? true : undefined),
      60_000,
    );
    const loaded = await probe(context, port, loadCount);
    loadLatency.samples.push(p99(loaded) ?? Number.NaN);
    context.progress(`case 7: under load, p99 ${formatFigure(p99(loaded) ?? 0)} ms`);
    // The loaders stop sending and wait for their answers: then the burst is over.
    const stopped = await loader.stop("SIGTERM", LOAD_STOP_MS);
    if (stopped.code !== 0) throw new Error(`the loader: ${loader.describeExit(stopped)}`);
    const outcome = loader.tail("stdout").trim().split("\n").pop() ?? "";
    result.notes.push(`maximal dictionaries during the load: ${outcome}`);
    loader = undefined;

    // The server gives back what the burst took: its workers exit when idle.
    let after = await currentRssMb(server.process.pid);
    const settling: (number | null)[] = [after];
    for (let waited = 0; waited < SETTLE_MS; waited += SETTLE_POLL_MS) {
      await delay(SETTLE_POLL_MS);
      after = await currentRssMb(server.process.pid);
      settling.push(after);
    }
    result.details["rssSettlingMb"] = settling;
    if (after !== null) rssAfter.samples.push(after);
  } finally {
    if (loader !== undefined) await killChild(loader);
    const info = await server.stop("SIGTERM", STOP_GRACE_MS);
    if (info.code !== 0) result.notes.push(`gb-server: ${server.describeExit(info)}`);
    await rm(saveDir, { recursive: true, force: true });
  }
  const peakKib = Number((await readFile(rssFile, "utf8")).trim());
  if (Number.isFinite(peakKib) && peakKib > 0) rssPeak.samples.push((peakKib * 1024) / 1e6);
  for (const subject of [idleLatency, loadLatency, rssPeak, rssIdle, rssAfter]) {
    finishSubject(subject);
    result.subjects.push(subject);
  }
  result.ratios.push(
    figureResult("p99 under load, ms", loadLatency.median, { op: "<=", value: P99_GOAL_MS }),
    ratioResult("p99 under load / no load", loadLatency.median, idleLatency.median, null),
    figureResult("server peak RSS, MB", rssPeak.median, { op: "<=", value: PEAK_RSS_GOAL_MB }),
    figureResult(
      "server RSS after the burst − before, MB",
      rssAfter.median === null || rssIdle.median === null ? null : rssAfter.median - rssIdle.median,
      { op: "<=", value: AFTER_BURST_GOAL_MB },
    ),
    ratioResult("server RSS after the burst / before", rssAfter.median, rssIdle.median, null),
  );
  result.details["probes"] = { idle: idleCount, load: loadCount, gapMs: PROBE_GAP_MS };
  result.notes.push(
    `gb-server at its defaults (printing, saving); ${LOAD_CONNECTIONS} connections send ~16 MiB dictionaries of up to 1,000,000 values back to back (json, msgpack, xml in turn); a small dictionary every ${PROBE_GAP_MS} ms is timed to its receipt; RSS after = ${SETTLE_MS / 1000} s after the last answer`,
  );
  return result;
}
