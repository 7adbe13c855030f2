/**
 * Cases 4 and 5: small dictionaries. Case 4 sends N of them pipelined over one
 * connection; case 5 runs 16 concurrent loops of connect, send one, await its receipt,
 * close. gb (library client against gb-server) against a minimal Node length-prefixed
 * protocol. Items per second, timed inside the client process.
 */
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { clearDir } from "./files.js";
import type { DictClientReport, DictMode } from "./dict-client-args.js";
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
import { newCase, ratioResult, type CaseResult } from "./results.js";
import { itemsPerSecond } from "./stats.js";

/** The report a dictionary client prints as its last line of output. */
export function parseDictClientReport(stdout: string, expectedItems: number): DictClientReport {
  const lastLine = stdout.trim().split("\n").pop() ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(lastLine);
  } catch {
    throw new Error(`the client printed no report: ${JSON.stringify(lastLine.slice(0, 200))}`);
  }
  const report = parsed as Partial<DictClientReport> | null;
  const items = report?.items;
  const elapsedMs = report?.elapsedMs;
  if (typeof items !== "number" || typeof elapsedMs !== "number" || elapsedMs <= 0) {
    throw new Error(`the client printed an invalid report: ${lastLine.slice(0, 200)}`);
  }
  if (items !== expectedItems)
    throw new Error(`the client sent ${items} items, not ${expectedItems}`);
  return { items, elapsedMs };
}

interface DictCaseShape {
  readonly mode: DictMode;
  readonly count: number;
  readonly concurrency: number;
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
  ];
}

async function runDictClient(
  context: BenchContext,
  script: string,
  port: number,
  shape: DictCaseShape,
  tag: string,
): Promise<number> {
  const client = startNode(context, script, clientArgs(script, port, shape, tag));
  await client.succeeded();
  const report = parseDictClientReport(client.tail("stdout"), shape.count);
  return itemsPerSecond(report.items, report.elapsedMs);
}

/** Name of the gb subject that stores nothing, like the baseline: the goal's comparison. */
const GB_NO_SAVE = "gb --no-save";

function gbSubject(context: BenchContext, shape: DictCaseShape, save: boolean): Subject {
  const saveDir = path.join(context.work, "dicts");
  let server: StartedServer | null = null;
  return {
    name: save ? "gb (saving)" : GB_NO_SAVE,
    skip: null,
    setup: async () => {
      await mkdir(saveDir, { recursive: true });
      server = await startGbServer(context, { saveDir, noSave: !save });
    },
    measure: async (repetition) => {
      if (server === null) throw new Error("gb-server is not running");
      const rate = await runDictClient(
        context,
        "gb-dict-client",
        server.port,
        shape,
        `r${repetition}`,
      );
      const stored = (await readdir(saveDir)).filter((name) => !name.startsWith("."));
      await clearDir(saveDir);
      if (stored.length !== (save ? shape.count : 0)) {
        throw new Error(`gb-server stored ${stored.length} dictionaries, not ${shape.count}`);
      }
      return rate;
    },
    teardown: async () => {
      if (server !== null) await stopGbServer(server);
    },
  };
}

function nodeSubject(context: BenchContext, shape: DictCaseShape): Subject {
  let server: StartedServer | null = null;
  return {
    name: "node",
    skip: null,
    setup: async () => {
      server = await startBaselineServer(context, "frame-server", []);
    },
    measure: async (repetition) => {
      if (server === null) throw new Error("frame-server is not running");
      return runDictClient(context, "frame-client", server.port, shape, `r${repetition}`);
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
      ? { mode, count: settings.pipelinedDicts, concurrency: 1 }
      : { mode, count: settings.oneShotDicts, concurrency: settings.oneShotConcurrency };
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
  result.details["repetitions"] = repetitions;
  await runInterleaved(
    context,
    result,
    [
      gbSubject(context, shape, false),
      gbSubject(context, shape, true),
      nodeSubject(context, shape),
    ],
    repetitions,
  );
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
  );
  result.notes.push(
    "dictionary: ~200 bytes of JSON; time measured inside the client process, connect to last receipt and close",
    "gb --no-save decodes, validates and hashes every dictionary and returns a SHA-256 receipt, storing nothing, like node, which parses each frame's JSON and acknowledges it; gb (saving) also stores each one durably (temporary file, fsync, link, directory fsync)",
  );
  return result;
}
