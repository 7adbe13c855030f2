/**
 * Cases 4 and 5: small dictionaries. Case 4 sends N of them pipelined over one
 * connection; case 5 runs 16 concurrent loops of connect, send one, await its receipt,
 * close. gb (library client against gb-server) against a minimal Node length-prefixed
 * protocol. Items per second, timed inside the client process.
 */
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { clearDir } from "./files.js";
import type { DictClientReport, DictMode, PassTiming } from "./dict-client-args.js";
import { medianOf, runInterleaved, type Subject } from "./interleave.js";
import {
  benchScript,
  killChild,
  startBaselineServer,
  startGbServer,
  startNode,
  stopGbServer,
  type BenchContext,
  type StartedServer,
} from "./programs.js";
import { finishSubject, newCase, newSubject, ratioResult, type CaseResult } from "./results.js";
import { itemsPerSecond } from "./stats.js";

function checkedTiming(value: unknown, expectedItems: number, line: string): PassTiming {
  const timing = value as Partial<PassTiming> | null;
  const items = timing?.items;
  const elapsedMs = timing?.elapsedMs;
  if (typeof items !== "number" || typeof elapsedMs !== "number" || elapsedMs <= 0) {
    throw new Error(`the client printed an invalid report: ${line.slice(0, 200)}`);
  }
  if (items !== expectedItems)
    throw new Error(`the client sent ${items} items, not ${expectedItems}`);
  return { items, elapsedMs };
}

/**
 * The report a dictionary client prints as its last line of output, checked against the
 * items it was asked to send (`expectedWarmup` 0: no warm-up pass).
 */
export function parseDictClientReport(
  stdout: string,
  expectedItems: number,
  expectedWarmup = 0,
): DictClientReport {
  const lastLine = stdout.trim().split("\n").pop() ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(lastLine);
  } catch {
    throw new Error(`the client printed no report: ${JSON.stringify(lastLine.slice(0, 200))}`);
  }
  const timed = checkedTiming(parsed, expectedItems, lastLine);
  const warmupValue = (parsed as { warmup?: unknown }).warmup ?? null;
  if ((warmupValue === null) !== (expectedWarmup === 0)) {
    throw new Error(
      `the client's warm-up pass is not the one asked for: ${lastLine.slice(0, 200)}`,
    );
  }
  const warmup = warmupValue === null ? null : checkedTiming(warmupValue, expectedWarmup, lastLine);
  return { ...timed, warmup };
}

interface DictCaseShape {
  readonly mode: DictMode;
  readonly count: number;
  readonly concurrency: number;
  /** Items of the untimed warm-up pass each client process sends first. */
  readonly warmup: number;
}

/** A repetition's rates: the timed pass (warm) and the warm-up pass (the process cold). */
interface DictRates {
  readonly warm: number;
  readonly cold: number;
}

function clientArgs(script: string, port: number, shape: DictCaseShape, tag: string): string[] {
  return [
    benchScript(script),
    "--port",
    String(port),
    "--count",
    String(shape.count),
    "--mode",
    shape.mode,
    "--concurrency",
    String(shape.concurrency),
    "--tag",
    tag,
    "--warmup",
    String(shape.warmup),
  ];
}

async function runDictClient(
  context: BenchContext,
  script: string,
  port: number,
  shape: DictCaseShape,
  tag: string,
): Promise<DictRates> {
  const client = startNode(context, script, clientArgs(script, port, shape, tag));
  await client.succeeded();
  const report = parseDictClientReport(client.tail("stdout"), shape.count, shape.warmup);
  const warm = itemsPerSecond(report.items, report.elapsedMs);
  const cold =
    report.warmup === null ? warm : itemsPerSecond(report.warmup.items, report.warmup.elapsedMs);
  return { warm, cold };
}

/** Name of the gb subject that stores nothing, like the baseline: the goal's comparison. */
const GB_NO_SAVE = "gb --no-save";

/** Name of the row holding a subject's warm-up (cold process) figures. */
function coldName(subject: string): string {
  return `${subject}, cold`;
}

/** The rates of each repetition's warm-up pass, by subject name. */
type ColdRates = Map<string, number[]>;

function recordCold(cold: ColdRates, subject: string, rate: number): void {
  const samples = cold.get(subject) ?? [];
  samples.push(rate);
  cold.set(subject, samples);
}

function gbSubject(
  context: BenchContext,
  shape: DictCaseShape,
  save: boolean,
  cold: ColdRates,
): Subject {
  const name = save ? "gb (saving)" : GB_NO_SAVE;
  const saveDir = path.join(context.work, "dicts");
  let server: StartedServer | null = null;
  return {
    name,
    skip: null,
    setup: async () => {
      await mkdir(saveDir, { recursive: true });
      server = await startGbServer(context, { saveDir, noSave: !save });
    },
    measure: async (repetition) => {
      if (server === null) throw new Error("gb-server is not running");
      const rates = await runDictClient(
        context,
        "gb-dict-client",
        server.port,
        shape,
        `r${repetition}`,
      );
      const stored = (await readdir(saveDir)).filter((file) => !file.startsWith("."));
      await clearDir(saveDir);
      const sent = shape.count + shape.warmup;
      if (stored.length !== (save ? sent : 0)) {
        throw new Error(`gb-server stored ${stored.length} dictionaries, not ${sent}`);
      }
      recordCold(cold, name, rates.cold);
      return rates.warm;
    },
    teardown: async () => {
      if (server !== null) await stopGbServer(server);
    },
  };
}

function nodeSubject(context: BenchContext, shape: DictCaseShape, cold: ColdRates): Subject {
  let server: StartedServer | null = null;
  return {
    name: "node",
    skip: null,
    setup: async () => {
      server = await startBaselineServer(context, "frame-server", []);
    },
    measure: async (repetition) => {
      if (server === null) throw new Error("frame-server is not running");
      const rates = await runDictClient(
        context,
        "frame-client",
        server.port,
        shape,
        `r${repetition}`,
      );
      recordCold(cold, "node", rates.cold);
      return rates.warm;
    },
    teardown: async () => {
      if (server !== null) await killChild(server.child);
    },
  };
}

/** Case 4 (pipelined over one connection) or case 5 (one connection per item). */
export async function runDictCase(
  context: BenchContext,
  mode: DictMode,
  repetitions: number,
): Promise<CaseResult> {
  const { settings } = context;
  const shape: DictCaseShape =
    mode === "pipelined"
      ? { mode, count: settings.pipelinedDicts, concurrency: 1, warmup: settings.pipelinedDicts }
      : {
          mode,
          count: settings.oneShotDicts,
          concurrency: settings.oneShotConcurrency,
          warmup: settings.oneShotDicts,
        };
  const result =
    mode === "pipelined"
      ? newCase(4, `${shape.count} small dicts, one connection`, "items/s", true)
      : newCase(
          5,
          `${shape.count} one-shot clients, ${shape.concurrency} at once`,
          "items/s",
          true,
        );
  result.details["items"] = shape.count;
  result.details["concurrency"] = shape.concurrency;
  result.details["warmupItems"] = shape.warmup;
  result.details["repetitions"] = repetitions;
  const cold: ColdRates = new Map();
  await runInterleaved(
    context,
    result,
    [
      gbSubject(context, shape, false, cold),
      gbSubject(context, shape, true, cold),
      nodeSubject(context, shape, cold),
    ],
    repetitions,
  );
  for (const [subject, samples] of cold) {
    const row = newSubject(coldName(subject));
    row.samples.push(...samples);
    finishSubject(row);
    // A subject that failed part-way failed for its cold row too.
    const warm = result.subjects.find((candidate) => candidate.name === subject);
    if (warm !== undefined && warm.status !== "ok") {
      row.status = warm.status;
      row.reason = warm.reason;
    }
    result.subjects.push(row);
  }
  const goal = mode === "pipelined" ? 0.5 : 0.8;
  result.ratios.push(
    ratioResult("gb --no-save/node", medianOf(result, GB_NO_SAVE), medianOf(result, "node"), {
      op: ">=",
      value: goal,
    }),
    ratioResult(
      "gb (saving)/node",
      medianOf(result, "gb (saving)"),
      medianOf(result, "node"),
      null,
    ),
    ratioResult(
      coldName("gb --no-save/node"),
      medianOf(result, coldName(GB_NO_SAVE)),
      medianOf(result, coldName("node")),
      null,
    ),
  );
  result.notes.push(
    "dictionary: ~200 bytes of JSON; time measured inside the client process, connect to last receipt and close",
    `each client process first runs a warm-up pass of ${shape.warmup} items sent the same way, while it compiles its code and grows its heap; the "cold" rows report that pass, for information; the pass after it measures the steady state, which the goal is judged on`,
    "gb --no-save decodes, validates and hashes every dictionary and returns a SHA-256 receipt, storing nothing, like node, which parses each frame's JSON and acknowledges it; gb (saving) also stores each one durably (temporary file, fsync, link, directory fsync)",
  );
  return result;
}
