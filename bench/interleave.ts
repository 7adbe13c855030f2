/** Runs a case's subjects side by side: repetition 1 of each, then repetition 2 of each, … */
import { performance } from "node:perf_hooks";
import { earlierChildExitedSince } from "./children.js";
import { startCpuTimer } from "./cpu-time.js";
import type { BenchContext } from "./programs.js";
import { finishSubject, newSubject, type CaseResult, type SubjectResult } from "./results.js";
import { formatFigure } from "./stats.js";

export interface Subject {
  readonly name: string;
  /** Why the subject cannot run here (a tool is missing); null when it can. */
  readonly skip: string | null;
  /** Starts what lasts the whole case (a server). */
  readonly setup?: () => Promise<void>;
  /** One repetition: returns the measured figure, in the case's unit. */
  readonly measure: (repetition: number) => Promise<number>;
  /**
   * When present, each repetition's CPU time is measured too: that of the child
   * processes reaped meanwhile (those it started), plus that of these processes
   * (servers that serve every repetition), read when the repetition starts, with the
   * children they reap meanwhile (a daemon's per-connection processes: `measure`
   * returns once they are reaped). A repetition during which an older child exited
   * has no CPU figure: that child's whole life would count.
   */
  readonly cpuPids?: () => readonly number[];
  /** Stops what setup started; runs whenever setup ran, also after failures. */
  readonly teardown?: () => Promise<void>;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fail(result: SubjectResult, error: unknown): void {
  if (result.status === "failed") return;
  result.status = "failed";
  result.reason = describeError(error);
}

/**
 * Measures every subject `repetitions` times, interleaved. A subject that fails stops
 * there (its samples so far are kept) and the others go on; the case is marked failed.
 * Results are appended to `result.subjects`.
 */
export async function runInterleaved(
  context: BenchContext,
  result: CaseResult,
  subjects: readonly Subject[],
  repetitions: number,
): Promise<void> {
  const states = subjects.map((subject) => ({
    subject,
    result: newSubject(subject.name),
    setUp: false,
  }));
  for (const state of states) {
    if (state.subject.skip !== null) {
      state.result.status = "skipped";
      state.result.reason = state.subject.skip;
      context.progress(`case ${result.id}: ${state.subject.name} skipped: ${state.subject.skip}`);
    }
  }
  try {
    for (const state of states) {
      if (state.result.status !== "ok") continue;
      try {
        context.signal.throwIfAborted();
        state.setUp = true;
        await state.subject.setup?.();
      } catch (error) {
        fail(state.result, error);
        context.progress(
          `case ${result.id}: ${state.subject.name} failed to start: ${describeError(error)}`,
        );
      }
    }
    for (let repetition = 1; repetition <= repetitions; repetition++) {
      for (const state of states) {
        if (state.result.status !== "ok") continue;
        try {
          context.signal.throwIfAborted();
          const ticks = context.tools.cpuTicksPerSecond;
          const pids = state.subject.cpuPids?.();
          const startedAt = performance.now();
          const cpuTimer = ticks !== null && pids !== undefined ? startCpuTimer(ticks, pids) : null;
          const value = await state.subject.measure(repetition);
          state.result.samples.push(value);
          let cpu: number | null = null;
          if (cpuTimer !== null) {
            cpu = earlierChildExitedSince(startedAt) ? null : cpuTimer();
            state.result.cpuSeconds.push(cpu);
          }
          const cpuText = cpu === null ? "" : ` (${formatFigure(cpu)} s of CPU)`;
          context.progress(
            `case ${result.id}: rep ${repetition}/${repetitions} ${state.subject.name}: ${formatFigure(value)} ${result.unit}${cpuText}`,
          );
        } catch (error) {
          fail(state.result, error);
          context.progress(
            `case ${result.id}: rep ${repetition}/${repetitions} ${state.subject.name} FAILED: ${describeError(error)}`,
          );
        }
      }
    }
  } finally {
    for (const state of states) {
      if (!state.setUp) continue;
      try {
        await state.subject.teardown?.();
      } catch (error) {
        // After an abort everything was killed: a server's unclean stop says nothing then.
        if (context.signal.aborted) continue;
        fail(state.result, error);
        context.progress(
          `case ${result.id}: ${state.subject.name} failed to stop: ${describeError(error)}`,
        );
      }
    }
    for (const state of states) {
      finishSubject(state.result);
      result.subjects.push(state.result);
      if (state.result.status === "failed" && result.status === "ok") {
        result.status = "failed";
        result.reason = `${state.result.name}: ${state.result.reason ?? "failed"}`;
      }
    }
  }
}

/** The median of the subject named `name`, or null when it has none. */
export function medianOf(result: CaseResult, name: string): number | null {
  return result.subjects.find((subject) => subject.name === name)?.median ?? null;
}
