/**
 * Case 8: a directory tree of many small files (10,000 of 4 KiB), gb-client --file DIR
 * against rsync to an rsync daemon of the run's own, same disk, same run. Files per
 * second; the received tree is checked (every file's size and SHA-256) and deleted after
 * each repetition, outside the timing. gb's server makes every file durable before its
 * receipt (group commit); the rsync daemon does not fsync. Each subject sends the tree once
 * before the timed repetitions, untimed: a warm-up, as the dictionary case's (gb-server's
 * first tree runs before V8 has optimized its code, and is reported on its own).
 */
import { createHash, randomFill } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { clearDir } from "./files.js";
import { medianOf, runInterleaved, type Subject } from "./interleave.js";
import {
  GB_CLIENT,
  serverPids,
  startGbServer,
  startNode,
  stopGbServer,
  type BenchContext,
  type StartedServer,
} from "./programs.js";
import { newCase, ratioResult, type CaseResult } from "./results.js";
import { RSYNC_MODULE } from "./rsync-daemon.js";
import { rsyncSubject } from "./rsync-subject.js";
import { formatFigure, type Goal } from "./stats.js";

const randomFillAsync = promisify(randomFill);

/** Each file's size. */
export const TREE_FILE_BYTES = 4096;
/** Files per directory of the source tree. */
const FILES_PER_DIRECTORY = 100;
/** The top folder's name, in the source and on both receivers. */
const TREE_NAME = "tree";
const MS_PER_SECOND = 1000;
/** What {@link verifyTree} reads at a time. */
const VERIFY_BUFFER_BYTES = 64 * 1024;

/** gb's files per second over the rsync daemon's, same tree, same disk (the issue's goal). */
export const GB_OVER_RSYNC_TREE_GOAL: Goal = { op: ">=", value: 0.5 };

/** The source tree: its path, and each file's path in it with its SHA-256. */
export interface SourceTree {
  readonly root: string;
  readonly files: ReadonlyMap<string, string>;
}

/** Writes `count` files of random data, {@link FILES_PER_DIRECTORY} to a directory. */
export async function writeSourceTree(parent: string, count: number): Promise<SourceTree> {
  const root = path.join(parent, TREE_NAME);
  const files = new Map<string, string>();
  for (let index = 0; index < count; index++) {
    const directory = `d${String(Math.floor(index / FILES_PER_DIRECTORY)).padStart(3, "0")}`;
    if (index % FILES_PER_DIRECTORY === 0)
      await mkdir(path.join(root, directory), { recursive: true });
    const relative = `${directory}/f${String(index).padStart(5, "0")}.bin`;
    const data = Buffer.allocUnsafe(TREE_FILE_BYTES);
    await randomFillAsync(data);
    await writeFile(path.join(root, relative), data);
    files.set(relative, createHash("sha256").update(data).digest("hex"));
  }
  return { root, files };
}

/** Checks that `received` holds exactly the source tree's files, byte for byte. */
export async function verifyTree(received: string, source: SourceTree): Promise<void> {
  const entries = await readdir(received, { recursive: true, withFileTypes: true });
  const found = entries.filter((entry) => entry.isFile());
  if (found.length !== source.files.size) {
    throw new Error(`${received} holds ${found.length} files, expected ${source.files.size}`);
  }
  // One buffer for every file, read synchronously (this is outside the timing): reading
  // 10,000 files into fresh buffers left megabytes for the benchmark's garbage collector
  // to reclaim during the next repetition, on the cores the subjects share.
  const buffer = Buffer.allocUnsafe(VERIFY_BUFFER_BYTES);
  for (const [relative, sha256] of source.files) {
    const hash = createHash("sha256");
    const fd = openSync(path.join(received, relative), "r");
    try {
      for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) {
        hash.update(buffer.subarray(0, read));
      }
    } finally {
      closeSync(fd);
    }
    if (hash.digest("hex") !== sha256) {
      throw new Error(`${relative} differs from its source (SHA-256)`);
    }
  }
}

function filesPerSecond(files: number, milliseconds: number): number {
  return files / (milliseconds / MS_PER_SECOND);
}

function gbTreeSubject(context: BenchContext, source: SourceTree): Subject {
  const saveDir = path.join(context.work, "gb-tree");
  let server: StartedServer | null = null;
  return {
    name: "gb",
    skip: null,
    setup: async () => {
      await mkdir(saveDir, { recursive: true });
      // Quiet, as the rsync daemon is: no event per file for the benchmark to read.
      server = await startGbServer(context, { saveDir, quiet: true });
    },
    cpuPids: () => serverPids(server),
    measure: async () => {
      if (server === null) throw new Error("gb-server is not running");
      const client = startNode(context, "gb-client", [
        GB_CLIENT,
        "--port",
        String(server.port),
        "--file",
        source.root,
      ]);
      const exit = await client.succeeded();
      const milliseconds = exit.at - client.startedAt;
      try {
        await verifyTree(path.join(saveDir, TREE_NAME), source);
      } finally {
        await clearDir(saveDir);
      }
      return filesPerSecond(source.files.size, milliseconds);
    },
    teardown: async () => {
      if (server !== null) await stopGbServer(server);
    },
  };
}

function rsyncTreeSubject(context: BenchContext, source: SourceTree, result: CaseResult): Subject {
  return rsyncSubject(context, result, {
    daemonDir: "rsyncd-tree",
    outDir: "rsync-tree",
    // -r: the tree; --whole-file, no compression, as gb sends files; -t keeps times, as gb does.
    clientArgs: (port) => [
      "-rt",
      "--whole-file",
      source.root,
      `rsync://127.0.0.1:${port}/${RSYNC_MODULE}/`,
    ],
    scored: async (outDir, milliseconds) => {
      try {
        await verifyTree(path.join(outDir, TREE_NAME), source);
      } finally {
        await clearDir(outDir);
      }
      return filesPerSecond(source.files.size, milliseconds);
    },
  });
}

/**
 * `subject`, sending the tree once more right after its setup, untimed: the rate of that
 * warm-up goes to `warmups`.
 */
function withWarmup(
  context: BenchContext,
  subject: Subject,
  warmups: Map<string, number>,
): Subject {
  const setup = subject.setup;
  return {
    ...subject,
    setup: async () => {
      await setup?.();
      const rate = await subject.measure(0);
      warmups.set(subject.name, rate);
      context.progress(
        `case 8: warm-up ${subject.name}: ${formatFigure(rate)} files/s (not counted)`,
      );
    },
  };
}

/** Case 8: many small files in one tree. */
export async function runTreeCase(
  context: BenchContext,
  fileCount: number,
  repetitions: number,
): Promise<CaseResult> {
  const result = newCase(8, `tree of ${fileCount} files of 4 KiB`, "files/s", true);
  context.progress(`case 8: writing ${fileCount} files of ${TREE_FILE_BYTES} bytes`);
  const sourceParent = path.join(context.work, "src-tree");
  const source = await writeSourceTree(sourceParent, fileCount);
  result.details["files"] = fileCount;
  result.details["fileBytes"] = TREE_FILE_BYTES;
  result.details["repetitions"] = repetitions;
  const warmups = new Map<string, number>();
  await runInterleaved(
    context,
    result,
    [gbTreeSubject(context, source), rsyncTreeSubject(context, source, result)].map((subject) =>
      subject.skip === null ? withWarmup(context, subject, warmups) : subject,
    ),
    repetitions,
  );
  result.details["warmupFilesPerSecond"] = Object.fromEntries(warmups);
  result.ratios.push(
    ratioResult(
      "gb/rsync-daemon",
      medianOf(result, "gb"),
      medianOf(result, "rsync-daemon"),
      GB_OVER_RSYNC_TREE_GOAL,
    ),
  );
  const version = result.details["rsyncVersion"];
  result.notes.push(
    `gb-client --file DIR to gb-server --quiet (no event per file, as the rsync daemon logs none), small files in batches of up to 32, every file with its own receipt, each file and its directory fsynced before its receipt (group commit); rsync${typeof version === "string" ? ` ${version}` : ""} -rt --whole-file to an rsync daemon of the run's own, which does not fsync`,
    "time: client spawn to exit; files/s is the tree's file count over that time; the received tree is checked (every file's SHA-256) and removed outside the timing",
    `warm-up: each subject sends the tree once before the timed repetitions, untimed (gb-server's first tree runs before V8 has optimized its code): ${[
      ...warmups,
    ]
      .map(([name, rate]) => `${name} ${formatFigure(rate)} files/s`)
      .join(", ")}`,
  );
  for (const subject of result.subjects) {
    if (subject.status === "skipped" && subject.reason !== null) result.notes.push(subject.reason);
  }
  await clearDir(sourceParent);
  return result;
}
