/** Plain-text table of benchmark results. Pure: builds strings only. */
import type { CaseResult } from "./results.js";
import { formatFigure, formatGoal, formatRatio } from "./stats.js";

export type Align = "left" | "right";

/** Lays out `rows` under `headers` in columns separated by two spaces, with a rule below the headers. */
export function formatColumns(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? "";
        return align[column] === "right" ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

export const TABLE_HEADERS = [
  "case",
  "subject",
  "median",
  "min",
  "max",
  "unit",
  "cpu s",
  "ratio",
  "goal",
  "met",
] as const;

const TABLE_ALIGN: readonly Align[] = [
  "left",
  "left",
  "right",
  "right",
  "right",
  "left",
  "right",
  "right",
  "left",
  "left",
];

function figure(value: number | null): string {
  return value === null ? "-" : formatFigure(value);
}

function metText(met: boolean | null): string {
  if (met === null) return "-";
  return met ? "yes" : "NO";
}

/**
 * One row per subject (median, min, max of its samples, and the median CPU seconds of a
 * repetition when they were measured) and one per ratio (its value, goal and whether it
 * is met), grouped by case; the case title heads each group.
 */
export function resultRows(cases: readonly CaseResult[]): string[][] {
  const rows: string[][] = [];
  for (const result of cases) {
    const better = result.higherIsBetter ? "higher is better" : "lower is better";
    let label = `${result.id}. ${result.title}`;
    if (result.status !== "ok") label += ` [${result.status.toUpperCase()}]`;
    rows.push([label, `(${better})`]);
    for (const subject of result.subjects) {
      const stats =
        subject.status === "ok" || subject.samples.length > 0
          ? [figure(subject.median), figure(subject.min), figure(subject.max)]
          : [subject.status, "", ""];
      const name = subject.status === "failed" ? `${subject.name} [FAILED]` : subject.name;
      const cpu = subject.cpuMedian === null ? "" : figure(subject.cpuMedian);
      rows.push(["", name, ...stats, result.unit, cpu, "", "", ""]);
    }
    for (const entry of result.ratios) {
      const value = entry.value === null ? "-" : formatRatio(entry.value);
      rows.push([
        "",
        entry.name,
        "",
        "",
        "",
        "",
        "",
        value,
        entry.goal === null ? "-" : formatGoal(entry.goal),
        metText(entry.met),
      ]);
    }
  }
  return rows;
}

export function formatResultsTable(cases: readonly CaseResult[]): string {
  return formatColumns(TABLE_HEADERS, resultRows(cases), TABLE_ALIGN);
}
