import { readFileSync } from "node:fs";

/**
 * This process's peak resident set size, in KiB. On Linux, the `VmHWM` of
 * /proc/self/status: the peak of this program's own memory. Not
 * `process.resourceUsage().maxRSS`: a child started with fork and exec counts in it the
 * memory of its parent at the fork (the kernel keeps the larger of the two across exec),
 * so a small client started by a large benchmark reads as large as the benchmark. Where
 * there is no /proc (or no `VmHWM` in it), `maxRSS` all the same.
 * @param status the text of /proc/self/status (read when not given)
 */
export function peakRssKiB(status: string | undefined = readStatus()): number {
  const match = status === undefined ? null : /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match?.[1] === undefined ? process.resourceUsage().maxRSS : Number(match[1]);
}

function readStatus(): string | undefined {
  try {
    return readFileSync("/proc/self/status", "utf8");
  } catch {
    return undefined;
  }
}
