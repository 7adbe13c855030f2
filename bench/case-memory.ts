/**
 * Case 3: peak resident memory of gb-server and gb-client sending a small and a large
 * file, plain and encrypted. Each process runs with the RSS probe preloaded; a fresh server
 * per measurement, stopped with SIGTERM once the client is done so that its probe runs.
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { verifyAndClearDir, type SourceFile } from "./files.js";
import { describeError } from "./interleave.js";
import {
  GB_CLIENT,
  rssProbeImport,
  startGbServer,
  startNode,
  stopGbServer,
  type BenchContext,
} from "./programs.js";
import {
  figureResult,
  finishSubject,
  newCase,
  newSubject,
  ratioResult,
  type CaseResult,
  type SubjectResult,
} from "./results.js";
import { RSS_FILE_ENV } from "./rss-env.js";
import { formatFigure, formatSize } from "./stats.js";

/** Peak RSS allowed for the large file, in MB. */
const LARGE_PEAK_GOAL_MB = 100;

/** How much more the large file may take than the small one. */
const GROWTH_GOAL = 1.15;

type Side = "server" | "client";
type Mode = "plain" | "encrypted";

const SIDES: readonly Side[] = ["server", "client"];
const MODES: readonly Mode[] = ["plain", "encrypted"];

export function memorySubjectName(side: Side, mode: Mode, size: string): string {
  return `${side} peak RSS, ${mode}, ${size}`;
}

async function readRssMegabytes(file: string, side: Side): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`the ${side} wrote no peak RSS (${describeError(error)})`);
  }
  const kibibytes = Number(text.trim());
  if (!Number.isFinite(kibibytes) || kibibytes <= 0) {
    throw new Error(`the ${side} wrote an invalid peak RSS: ${JSON.stringify(text)}`);
  }
  return (kibibytes * 1024) / 1e6;
}

/** One transfer with both sides probed; returns their peak RSS in MB. */
async function measureOnce(
  context: BenchContext,
  source: SourceFile,
  mode: Mode,
): Promise<Record<Side, number>> {
  const saveDir = path.join(context.work, "memory");
  await mkdir(saveDir, { recursive: true });
  const rssFiles: Record<Side, string> = {
    server: path.join(context.work, "rss-server"),
    client: path.join(context.work, "rss-client"),
  };
  await Promise.all(SIDES.map((side) => rm(rssFiles[side], { force: true })));
  const probe = ["--import", rssProbeImport()];
  const server = await startGbServer(context, {
    saveDir,
    nodeArgs: probe,
    env: { ...context.env, [RSS_FILE_ENV]: rssFiles.server },
  });
  try {
    const args = [...probe, GB_CLIENT, "--port", String(server.port), "--file", source.path];
    if (mode === "encrypted") args.push("--encrypt", "--key-file", context.keyFile);
    const client = startNode(context, "gb-client", args, {
      env: { ...context.env, [RSS_FILE_ENV]: rssFiles.client },
    });
    await client.succeeded();
  } finally {
    await stopGbServer(server);
  }
  await verifyAndClearDir(saveDir, source, context.signal);
  return {
    server: await readRssMegabytes(rssFiles.server, "server"),
    client: await readRssMegabytes(rssFiles.client, "client"),
  };
}

export async function runMemoryCase(
  context: BenchContext,
  repetitions: number,
): Promise<CaseResult> {
  const { small, large } = context;
  if (small === null || large === null) throw new Error("the source files were not created");
  const sizes = [small, large] as const;
  const result = newCase(3, "peak RSS", "MB", false);
  result.details["bytes"] = { small: small.bytes, large: large.bytes };
  result.details["repetitions"] = repetitions;
  const subjects = new Map<string, SubjectResult>();
  const subject = (side: Side, mode: Mode, source: SourceFile): SubjectResult => {
    const name = memorySubjectName(side, mode, formatSize(source.bytes));
    let found = subjects.get(name);
    if (found === undefined) {
      found = newSubject(name);
      subjects.set(name, found);
    }
    return found;
  };
  for (const side of SIDES) {
    for (const mode of MODES) for (const source of sizes) subject(side, mode, source);
  }
  for (let repetition = 1; repetition <= repetitions; repetition++) {
    for (const mode of MODES) {
      for (const source of sizes) {
        const pair = SIDES.map((side) => subject(side, mode, source));
        if (pair.some((entry) => entry.status !== "ok")) continue;
        const label = `case 3: rep ${repetition}/${repetitions} ${mode} ${formatSize(source.bytes)}`;
        try {
          context.signal.throwIfAborted();
          const measured = await measureOnce(context, source, mode);
          for (const side of SIDES) subject(side, mode, source).samples.push(measured[side]);
          context.progress(
            `${label}: server ${formatFigure(measured.server)} MB, client ${formatFigure(measured.client)} MB`,
          );
        } catch (error) {
          for (const entry of pair) {
            entry.status = "failed";
            entry.reason = describeError(error);
          }
          context.progress(`${label} FAILED: ${describeError(error)}`);
        }
      }
    }
  }
  for (const entry of subjects.values()) {
    finishSubject(entry);
    result.subjects.push(entry);
    if (entry.status === "failed" && result.status === "ok") {
      result.status = "failed";
      result.reason = `${entry.name}: ${entry.reason ?? "failed"}`;
    }
  }
  const largeSize = formatSize(large.bytes);
  const smallSize = formatSize(small.bytes);
  for (const side of SIDES) {
    for (const mode of MODES) {
      const largePeak = subject(side, mode, large).max;
      const smallPeak = subject(side, mode, small).max;
      result.ratios.push(
        figureResult(`${side} ${mode}: peak MB at ${largeSize}`, largePeak, {
          op: "<=",
          value: LARGE_PEAK_GOAL_MB,
        }),
        ratioResult(`${side} ${mode}: ${largeSize} / ${smallSize}`, largePeak, smallPeak, {
          op: "<=",
          value: GROWTH_GOAL,
        }),
      );
    }
  }
  result.notes.push(
    `peak RSS = the process's own peak at exit (VmHWM of /proc/self/status; maxRSS would count the benchmark's memory at the fork); MB = 10^6 bytes; goals use the max of ${repetitions} repetitions (max column)`,
  );
  return result;
}
