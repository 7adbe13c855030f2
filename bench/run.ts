/**
 * The benchmark: runs each case side by side with its baseline, prints a table on
 * standard output (progress on standard error) and writes the results as JSON.
 *
 *   npm run bench -- [--quick] [--reps N] [--only 1,3,6] [--out FILE]
 */
import { rmSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { createKeyFile } from "gb-transfer";
import { runFileCase } from "./case-files.js";
import { runHostileCase } from "./case-hostile.js";
import { runDictCase } from "./case-dicts.js";
import { runMemoryCase } from "./case-memory.js";
import { runStartupCase } from "./case-startup.js";
import { runTreeCase } from "./case-tree.js";
import { killAllChildren, liveChildCount } from "./children.js";
import { makeWorkDir, writeRandomFile, type SourceFile, type WorkDir } from "./files.js";
import { describeError } from "./interleave.js";
import { REPO_ROOT, type BenchContext, type RunSettings } from "./programs.js";
import { newCase, type CaseResult } from "./results.js";
import { formatSize } from "./stats.js";
import { formatResultsTable } from "./table.js";
import { DAEMON_PACKAGES_HINT, detectTools } from "./tools.js";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** Where the results go, relative to the repository root. */
const DEFAULT_OUT = "bench/results/latest.json";

const ALL_CASES = [1, 2, 3, 4, 5, 6, 7, 8] as const;
type CaseId = (typeof ALL_CASES)[number];

const CASE_TITLES: Record<CaseId, string> = {
  1: "plain file",
  2: "encrypted file",
  3: "peak RSS",
  4: "small dicts, one connection",
  5: "one-shot clients",
  6: "start-up",
  7: "hostile load",
  8: "tree of small files",
};

interface CliOptions {
  readonly quick: boolean;
  readonly reps?: number;
  readonly only?: CaseId[];
  readonly out?: string;
  readonly timeout: number;
  readonly caseTimeout: number;
  readonly dicts?: number;
  readonly oneshots?: number;
  readonly treeFiles?: number;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError("expected a positive integer");
  }
  return value;
}

function caseList(text: string): CaseId[] {
  const ids = text.split(",").map((part) => Number(part.trim()));
  const valid = ids.filter((id): id is CaseId => (ALL_CASES as readonly number[]).includes(id));
  if (valid.length !== ids.length || valid.length === 0) {
    throw new InvalidArgumentError(`expected case numbers among ${ALL_CASES.join(",")}`);
  }
  return [...new Set(valid)].sort((a, b) => a - b);
}

function parseCli(argv: readonly string[]): CliOptions {
  const cases = ALL_CASES.map((id) => `${id} ${CASE_TITLES[id]}`).join("; ");
  const program = new Command("bench")
    .description(`Benchmark gb-transfer against baselines. Cases: ${cases}.`)
    .option("--quick", "fast smoke run: 64 MiB / 16 MiB files, 2 repetitions, few dicts", false)
    .option(
      "--reps <n>",
      "repetitions of cases 1-2 (default 5) and 4-5 (default 3)",
      positiveInteger,
    )
    .option("--only <list>", "run only these cases, e.g. 1,3,6", caseList)
    .option("--out <file>", `where to write the JSON results (default: ${DEFAULT_OUT})`)
    .option("--timeout <seconds>", "time limit of every child process", positiveInteger, 120)
    .option("--case-timeout <seconds>", "time limit of every case", positiveInteger, 1800)
    .option("--dicts <n>", "dictionaries per repetition in case 4 (default 20000)", positiveInteger)
    .option(
      "--oneshots <n>",
      "one-shot clients per repetition in case 5 (default 2000)",
      positiveInteger,
    )
    .option("--tree-files <n>", "files in case 8's tree (default 10000)", positiveInteger)
    .allowExcessArguments(false);
  program.parse([...argv], { from: "user" });
  return program.opts<CliOptions>();
}

function settingsFrom(options: CliOptions): RunSettings {
  const quick = options.quick;
  return {
    quick,
    fileReps: options.reps ?? (quick ? 2 : 5),
    dictReps: options.reps ?? (quick ? 2 : 3),
    memoryReps: 2,
    startupReps: quick ? 5 : 20,
    largeBytes: quick ? 64 * MIB : GIB,
    smallBytes: quick ? 16 * MIB : 100 * MIB,
    pipelinedDicts: options.dicts ?? (quick ? 2000 : 20_000),
    oneShotDicts: options.oneshots ?? (quick ? 200 : 2000),
    oneShotConcurrency: 16,
    treeFiles: options.treeFiles ?? (quick ? 1000 : 10_000),
    treeReps: options.reps ?? (quick ? 2 : 3),
    childTimeoutMs: options.timeout * 1000,
    caseTimeoutMs: options.caseTimeout * 1000,
  };
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Environment for the children: configuration (a default key file) stays in the work directory. */
function childEnvironment(work: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(work, "config"),
    NO_COLOR: "1",
  };
  delete env["GB_PASSPHRASE"];
  delete env["GB_BENCH_RSS_FILE"];
  return env;
}

function failedCase(id: CaseId, error: unknown): CaseResult {
  const result = newCase(id, CASE_TITLES[id], "-", true);
  result.status = "failed";
  result.reason = describeError(error);
  return result;
}

async function runCase(id: CaseId, context: BenchContext): Promise<CaseResult> {
  const { settings } = context;
  switch (id) {
    case 1:
      return runFileCase(context, false, settings.fileReps);
    case 2:
      return runFileCase(context, true, settings.fileReps);
    case 3:
      return runMemoryCase(context, settings.memoryReps);
    case 4:
      return runDictCase(context, "pipelined", settings.dictReps);
    case 5:
      return runDictCase(context, "oneshot", settings.dictReps);
    case 6:
      return runStartupCase(context, settings.startupReps);
    case 7:
      return runHostileCase(context);
    case 8:
      return runTreeCase(context, settings.treeFiles, settings.treeReps);
  }
}

async function main(): Promise<void> {
  const options = parseCli(process.argv.slice(2));
  const settings = settingsFrom(options);
  const selected: readonly CaseId[] = options.only ?? ALL_CASES;
  const outFile =
    options.out === undefined ? path.join(REPO_ROOT, DEFAULT_OUT) : path.resolve(options.out);

  const interruption = new AbortController();
  let interruptedBy: NodeJS.Signals | null = null;
  let work: WorkDir | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interruptedBy !== null) {
      // Second signal: stop at once.
      killAllChildren();
      if (work !== null) rmSync(work.path, { recursive: true, force: true });
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    interruptedBy = signal;
    progress(`${signal}: stopping, cleaning up (send it again to quit at once)`);
    interruption.abort(new Error(`interrupted by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Last resort, whatever happens: no child and no work directory outlives the run.
  process.on("exit", () => {
    killAllChildren();
    if (work !== null) rmSync(work.path, { recursive: true, force: true });
  });

  const tools = await detectTools();
  const cases: CaseResult[] = [];
  let workDescription = "not created";
  try {
    work = await makeWorkDir();
    workDescription = work.where;
    progress(`work directory: ${work.path} (${work.where})`);
    if (work.fsType !== "tmpfs") {
      progress("note: the work directory is not on tmpfs; disk speed will weigh on the file cases");
    }
    if (tools.socat === null) {
      progress("socat not found: install it (e.g. apt-get install socat) to compare against it");
    }
    if (tools.openssl === null) progress("openssl not found: the TLS baseline will be skipped");
    const fileCases = selected.some((id) => id === 1 || id === 2 || id === 7);
    const opensshMissing = tools.sshd === null || tools.scp === null || tools.sshKeygen === null;
    if (fileCases && (opensshMissing || tools.rsync === null)) {
      progress(
        `sshd, scp or rsync not found: install them (e.g. ${DAEMON_PACKAGES_HINT}) to compare against scp and an rsync daemon`,
      );
    }

    const keyFile = path.join(work.path, "key");
    await createKeyFile(keyFile);
    const sourceDir = path.join(work.path, "src");
    await mkdir(sourceDir);
    const makeSource = async (name: string, bytes: number): Promise<SourceFile> => {
      const file = path.join(sourceDir, name);
      progress(`creating ${formatSize(bytes)} of random data`);
      const sha256 = await writeRandomFile(file, bytes, interruption.signal);
      return { path: file, bytes, sha256 };
    };
    const needLarge = selected.some((id) => id === 1 || id === 2 || id === 3);
    const large = needLarge ? await makeSource("large.bin", settings.largeBytes) : null;
    const small = selected.includes(3) ? await makeSource("small.bin", settings.smallBytes) : null;

    for (const id of selected) {
      if (interruption.signal.aborted) break;
      const deadline = AbortSignal.timeout(settings.caseTimeoutMs);
      const signal = AbortSignal.any([interruption.signal, deadline]);
      const context: BenchContext = {
        settings,
        tools,
        work: work.path,
        keyFile,
        env: childEnvironment(work.path),
        large,
        small,
        signal,
        progress,
      };
      progress(`case ${id}: ${CASE_TITLES[id]}`);
      let result: CaseResult;
      try {
        result = await runCase(id, context);
      } catch (error) {
        result = failedCase(id, error);
      }
      if (deadline.aborted && result.status !== "skipped") {
        result.status = "failed";
        result.reason = `did not finish within ${settings.caseTimeoutMs / 1000} s`;
      }
      if (result.status === "failed") {
        progress(`case ${id} FAILED: ${result.reason ?? "unknown reason"}`);
      }
      cases.push(result);
      if (liveChildCount() > 0) {
        progress(`case ${id}: killing ${liveChildCount()} child processes still running`);
        killAllChildren();
      }
    }
  } catch (error) {
    progress(`benchmark stopped: ${describeError(error)}`);
    process.exitCode = 1;
  } finally {
    killAllChildren();
    if (work !== null) {
      await rm(work.path, { recursive: true, force: true });
      progress(`removed the work directory`);
      work = null;
    }
  }

  const results = {
    date: new Date().toISOString(),
    machine: {
      cores: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      totalMemoryBytes: os.totalmem(),
      node: process.version,
      platform: `${process.platform} ${os.release()} ${process.arch}`,
      socat: tools.socat,
      openssl: tools.openssl,
      openssh: tools.openssh,
      rsync: tools.rsync?.version ?? null,
      workDirFs: workDescription,
    },
    options: {
      ...settings,
      only: selected,
      out: options.out ?? DEFAULT_OUT,
    },
    interrupted: interruptedBy,
    cases,
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);

  process.stdout.write(`${formatResultsTable(cases)}\n`);
  for (const result of cases) {
    const notes = [...result.notes];
    if (result.reason !== null) notes.unshift(`${result.status}: ${result.reason}`);
    for (const note of notes) process.stdout.write(`case ${result.id}: ${note}\n`);
  }
  const shownOut = path.relative(process.cwd(), outFile);
  process.stdout.write(
    `results written to ${shownOut.startsWith("..") || shownOut === "" ? outFile : shownOut}\n`,
  );

  if (interruptedBy !== null) {
    process.exitCode = interruptedBy === "SIGINT" ? 130 : 143;
  } else if (cases.some((result) => result.status === "failed")) {
    process.exitCode = 1;
  }
}

await main();
