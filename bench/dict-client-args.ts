/** Command line shared by the two dictionary clients (gb and baseline). */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

export type DictMode = "pipelined" | "oneshot";

export interface DictClientArgs {
  readonly port: number;
  /** Dictionaries to send in all. */
  readonly count: number;
  /** pipelined: one connection, all items in flight; oneshot: a connection per item. */
  readonly mode: DictMode;
  /** One-shot loops running at once. */
  readonly concurrency: number;
  /** Distinguishes repetitions in the names items are stored under. */
  readonly tag: string;
  /**
   * Items sent first, in the same way but untimed: they warm up the process (compiled
   * code, grown heap), so that the timed pass measures the steady state. 0 for none.
   */
  readonly warmup: number;
}

function positiveInteger(text: string | undefined, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}

function nonNegativeInteger(text: string | undefined, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`--${name} needs a non-negative integer`);
  }
  return value;
}

export function parseDictClientArgs(argv: readonly string[]): DictClientArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: "string" },
      count: { type: "string" },
      mode: { type: "string", default: "pipelined" },
      concurrency: { type: "string", default: "16" },
      tag: { type: "string", default: "0" },
      warmup: { type: "string", default: "0" },
    },
  });
  const mode = values.mode;
  if (mode !== "pipelined" && mode !== "oneshot") {
    throw new Error("--mode must be pipelined or oneshot");
  }
  return {
    port: positiveInteger(values.port, "port"),
    count: positiveInteger(values.count, "count"),
    mode,
    concurrency: positiveInteger(values.concurrency, "concurrency"),
    tag: values.tag,
    warmup: nonNegativeInteger(values.warmup, "warmup"),
  };
}

/** Runs `task(index)` for indexes 0..count-1 with at most `concurrency` running at once. */
export async function runLoops(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, loop));
}

/** Items sent in one pass and the time they took. */
export interface PassTiming {
  readonly items: number;
  readonly elapsedMs: number;
}

/** What a dictionary client prints on stdout when it is done: the timed pass, and the warm-up. */
export interface DictClientReport extends PassTiming {
  /** The untimed first pass (the process still cold), or null without one. */
  readonly warmup: PassTiming | null;
}

/**
 * Runs the warm-up pass (when asked for), then the timed pass. `pass(count, tag)` sends
 * `count` items whose names carry `tag`, the warm-up's tag being distinct.
 */
export async function runPasses(
  args: DictClientArgs,
  pass: (count: number, tag: string) => Promise<void>,
): Promise<DictClientReport> {
  const timed = async (count: number, tag: string): Promise<PassTiming> => {
    const started = performance.now();
    await pass(count, tag);
    return { items: count, elapsedMs: performance.now() - started };
  };
  const warmup = args.warmup > 0 ? await timed(args.warmup, `${args.tag}w`) : null;
  return { ...(await timed(args.count, args.tag)), warmup };
}
