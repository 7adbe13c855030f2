/** Command line shared by the two dictionary clients (gb and baseline). */
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
}

function positiveInteger(text: string | undefined, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
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

/** What a dictionary client prints on stdout when it is done. */
export interface DictClientReport {
  readonly items: number;
  readonly elapsedMs: number;
}
