/** The shape of benchmark results, as printed and as written to JSON. */
import { median, meetsGoal, ratio, summarize, type Goal } from "./stats.js";

export type Status = "ok" | "failed" | "skipped";

export interface SubjectResult {
  readonly name: string;
  status: Status;
  /** Why the subject failed or was skipped; null when it ran. */
  reason: string | null;
  readonly samples: number[];
  median: number | null;
  min: number | null;
  max: number | null;
  /**
   * When the subject's CPU time is measured: CPU seconds (user + system) of its
   * processes, one per sample (null when that repetition's could not be read).
   */
  readonly cpuSeconds: (number | null)[];
  cpuMedian: number | null;
}

export interface RatioResult {
  readonly name: string;
  readonly value: number | null;
  /** Null when the ratio is informative only. */
  readonly goal: Goal | null;
  /** Null when there is no goal or no value. */
  readonly met: boolean | null;
}

export interface CaseResult {
  readonly id: number;
  readonly title: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  status: Status;
  /** Why the case failed or was skipped; null when it ran. */
  reason: string | null;
  readonly subjects: SubjectResult[];
  readonly ratios: RatioResult[];
  readonly notes: string[];
  /** Case-specific facts worth keeping (negotiated cipher, sizes, counts). */
  readonly details: Record<string, unknown>;
}

export function newSubject(name: string): SubjectResult {
  return {
    name,
    status: "ok",
    reason: null,
    samples: [],
    median: null,
    min: null,
    max: null,
    cpuSeconds: [],
    cpuMedian: null,
  };
}

export function newCase(
  id: number,
  title: string,
  unit: string,
  higherIsBetter: boolean,
): CaseResult {
  return {
    id,
    title,
    unit,
    higherIsBetter,
    status: "ok",
    reason: null,
    subjects: [],
    ratios: [],
    notes: [],
    details: {},
  };
}

/** Fills in median, min and max from the samples, and the median CPU time. */
export function finishSubject(subject: SubjectResult): void {
  const summary = summarize(subject.samples);
  subject.median = summary.median;
  subject.min = summary.min;
  subject.max = summary.max;
  subject.cpuMedian = median(subject.cpuSeconds.filter((cpu) => cpu !== null));
}

/** A ratio of two figures with its goal checked. */
export function ratioResult(
  name: string,
  subject: number | null,
  baseline: number | null,
  goal: Goal | null,
): RatioResult {
  const value = ratio(subject, baseline);
  return { name, value, goal, met: goal === null ? null : meetsGoal(value, goal) };
}

/** A figure checked against an absolute goal (a "ratio" to 1). */
export function figureResult(name: string, value: number | null, goal: Goal): RatioResult {
  return { name, value, goal, met: meetsGoal(value, goal) };
}
