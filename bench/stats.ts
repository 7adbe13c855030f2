/** Pure helpers: summary statistics, ratios and goals. No I/O. */

/** A target for a ratio or a figure: `value op goal` must hold. */
export interface Goal {
  readonly op: ">=" | "<=";
  readonly value: number;
}

/** Median, minimum and maximum of a set of samples; all null when there are none. */
export interface Summary {
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
}

function sortedCopy(samples: readonly number[]): number[] {
  for (const sample of samples) {
    if (!Number.isFinite(sample)) throw new RangeError(`not a finite sample: ${sample}`);
  }
  return [...samples].sort((a, b) => a - b);
}

/** The median: the middle sample, or the mean of the two middle ones. */
export function median(samples: readonly number[]): number | null {
  const sorted = sortedCopy(samples);
  const count = sorted.length;
  if (count === 0) return null;
  const middle = Math.floor(count / 2);
  const upper = sorted[middle]!;
  return count % 2 === 1 ? upper : (sorted[middle - 1]! + upper) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = sortedCopy(samples);
  if (sorted.length === 0) return { median: null, min: null, max: null };
  return { median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/**
 * How a subject compares with a baseline, as `subject / baseline` of the two figures
 * (throughputs, times or sizes alike). Null when either figure is missing or the baseline
 * is zero.
 */
export function ratio(subject: number | null, baseline: number | null): number | null {
  if (subject === null || baseline === null || baseline === 0) return null;
  if (!Number.isFinite(subject) || !Number.isFinite(baseline)) return null;
  return subject / baseline;
}

/** Whether `value` meets `goal`; null when there is no value to judge. */
export function meetsGoal(value: number | null, goal: Goal): boolean | null {
  if (value === null || !Number.isFinite(value)) return null;
  return goal.op === ">=" ? value >= goal.value : value <= goal.value;
}

export function formatGoal(goal: Goal): string {
  return `${goal.op === ">=" ? "≥" : "≤"} ${goal.value}`;
}

/** A ratio with two decimals (three below 0.1, so small ratios keep a digit). */
export function formatRatio(value: number): string {
  return Math.abs(value) < 0.1 && value !== 0 ? value.toFixed(3) : value.toFixed(2);
}

/** A measured figure with a precision that suits its size. */
export function formatFigure(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Megabytes (10^6 bytes) per second for `bytes` moved in `milliseconds`. */
export function megabytesPerSecond(bytes: number, milliseconds: number): number {
  if (milliseconds <= 0) throw new RangeError(`elapsed time must be positive: ${milliseconds}`);
  return bytes / 1e6 / (milliseconds / 1000);
}

/** Items per second for `items` handled in `milliseconds`. */
export function itemsPerSecond(items: number, milliseconds: number): number {
  if (milliseconds <= 0) throw new RangeError(`elapsed time must be positive: ${milliseconds}`);
  return items / (milliseconds / 1000);
}

const KIB = 1024;
const MIB = KIB * KIB;
const GIB = MIB * KIB;

/** A byte count as the binary unit it is a whole multiple of: "1 GiB", "100 MiB", "12345 B". */
export function formatSize(bytes: number): string {
  if (bytes >= GIB && bytes % GIB === 0) return `${bytes / GIB} GiB`;
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} B`;
}
