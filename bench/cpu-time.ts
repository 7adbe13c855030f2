/**
 * CPU time (user + system) spent by a subject's processes during one repetition, read
 * from Linux's /proc: the children this process waited for in the meantime (the
 * `cutime` and `cstime` of /proc/self/stat grow when a child is reaped) plus what
 * long-lived processes, such as a server serving every repetition, used meanwhile (the
 * `utime` and `stime` of /proc/PID/stat, all threads), with the children they reaped
 * meanwhile (their `cutime` and `cstime`: a daemon that forks per connection). Where
 * /proc is missing, there is no figure.
 */
import { readFileSync } from "node:fs";

/** The four times of /proc/PID/stat, in clock ticks. */
export interface ProcStatTimes {
  /** The process's own user and system time, all threads. */
  readonly utime: number;
  readonly stime: number;
  /** The user and system time of the children it has waited for. */
  readonly cutime: number;
  readonly cstime: number;
}

/**
 * Reads the times out of a /proc/PID/stat line. The command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so fields are counted from the
 * last ")". Null when the line does not have that shape.
 */
export function parseProcStat(line: string): ProcStatTimes | null {
  const close = line.lastIndexOf(")");
  if (close < 0) return null;
  // fields[0] is field 3 (the state); utime is field 14.
  const fields = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const tick = (index: number): number | null => {
    const text = fields[index];
    return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
  };
  const utime = tick(11);
  const stime = tick(12);
  const cutime = tick(13);
  const cstime = tick(14);
  if (utime === null || stime === null || cutime === null || cstime === null) return null;
  return { utime, stime, cutime, cstime };
}

function readTimes(pid: number | "self"): ProcStatTimes | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return null;
  }
}

/**
 * Ticks of the children reaped so far plus those of each of `pids` and of the children
 * they reaped; null if one cannot be read.
 */
function ticksNow(pids: readonly number[]): number | null {
  const self = readTimes("self");
  if (self === null) return null;
  let ticks = self.cutime + self.cstime;
  for (const pid of pids) {
    const times = readTimes(pid);
    if (times === null) return null;
    ticks += times.utime + times.stime + times.cutime + times.cstime;
  }
  return ticks;
}

/** Whether this system has the /proc/self/stat this module reads. */
export function procStatAvailable(): boolean {
  return readTimes("self") !== null;
}

/**
 * Starts measuring the CPU time of the children reaped from now on and of the processes
 * `pids` (still running now and at the end), with the children those reap meanwhile.
 * The returned function gives the seconds used since, or null when a figure could not
 * be read (no /proc, a process gone).
 */
export function startCpuTimer(
  ticksPerSecond: number,
  pids: readonly number[],
): () => number | null {
  const before = ticksNow(pids);
  return () => {
    const after = ticksNow(pids);
    if (before === null || after === null) return null;
    return (after - before) / ticksPerSecond;
  };
}

/**
 * An estimate of the best throughput ratio, subject over baseline, that the machine
 * allows when the subject needs at least `floorCpuSeconds` of CPU per run and has
 * `cores` cores: its wall time cannot drop below floorCpuSeconds / cores, against the
 * baseline's `baselineSeconds`. Null when a figure is missing or not positive.
 */
export function cpuCeilingRatio(
  baselineSeconds: number | null,
  floorCpuSeconds: number | null,
  cores: number,
): number | null {
  if (baselineSeconds === null || floorCpuSeconds === null) return null;
  if (!(cores > 0)) throw new RangeError(`cores must be positive: ${cores}`);
  if (!(floorCpuSeconds > 0) || !(baselineSeconds > 0)) return null;
  return baselineSeconds / (floorCpuSeconds / cores);
}

/**
 * {@link cpuCeilingRatio} for each repetition of a baseline that moved `bytes` bytes:
 * `rates` are its throughputs in MB/s and `cpuSeconds` its CPU times, one per
 * repetition (null where unread); the floor of each is its CPU plus `extraCpuSeconds`.
 * The lowest and highest, or null when no repetition has both figures.
 */
export function cpuCeilingRange(
  bytes: number,
  rates: readonly number[],
  cpuSeconds: readonly (number | null)[],
  extraCpuSeconds: number,
  cores: number,
): { readonly min: number; readonly max: number } | null {
  const ceilings: number[] = [];
  rates.forEach((rate, index) => {
    const cpu = cpuSeconds[index] ?? null;
    if (cpu === null || !(rate > 0)) return;
    const ceiling = cpuCeilingRatio(bytes / 1e6 / rate, cpu + extraCpuSeconds, cores);
    if (ceiling !== null) ceilings.push(ceiling);
  });
  if (ceilings.length === 0) return null;
  return { min: Math.min(...ceilings), max: Math.max(...ceilings) };
}
