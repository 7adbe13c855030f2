/**
 * The children of a daemon that forks per connection (sshd, an rsync daemon), read from
 * Linux's /proc. Their CPU time reaches the daemon's own /proc figures (`cutime`,
 * `cstime`) only once the daemon has reaped them, so a repetition's CPU time is read
 * after the daemon has no child left.
 */
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

/** How often a daemon's children are looked for while waiting for them to go. */
const CHILDREN_POLL_MS = 5;

/**
 * The parent's pid (field 4) of a /proc/PID/stat line. Fields are counted from the last
 * ")", since the command name may hold spaces and parentheses. Null when the line does
 * not have that shape.
 */
export function parseParentPid(line: string): number | null {
  const close = line.lastIndexOf(")");
  if (close < 0) return null;
  const [state, ppid] = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  if (state === undefined || ppid === undefined || !/^\d+$/.test(ppid)) return null;
  return Number(ppid);
}

/**
 * The pids in `/proc/PID/task/TID/children` (one file per thread, pids separated by
 * spaces), or null when the kernel has no such file.
 */
function childrenFromTaskFiles(pid: number): number[] | null {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const pids: number[] = [];
  for (const task of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${task}/children`, "latin1");
    } catch {
      return null;
    }
    for (const word of text.trim().split(/\s+/)) {
      if (/^\d+$/.test(word)) pids.push(Number(word));
    }
  }
  return pids;
}

/** Every process's stat line, for kernels without the children files. */
function childrenFromStatScan(pid: number): number[] | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let line: string;
    try {
      line = readFileSync(`/proc/${entry}/stat`, "latin1");
    } catch {
      // It exited meanwhile.
      continue;
    }
    if (parseParentPid(line) === pid) pids.push(Number(entry));
  }
  return pids;
}

/**
 * The pids whose parent is `pid`, zombies not yet reaped included; null when /proc cannot
 * tell (no /proc, or `pid` is gone).
 */
export function childPidsOf(pid: number): number[] | null {
  return childrenFromTaskFiles(pid) ?? childrenFromStatScan(pid);
}

/**
 * Waits until the process `pid` has reaped every child it has. Resolves at once where
 * /proc cannot tell; throws when children remain after `timeoutMs`.
 */
export async function waitUntilChildless(
  pid: number,
  label: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const maxPolls = Math.ceil(timeoutMs / CHILDREN_POLL_MS) + 1;
  for (let polls = 0; polls < maxPolls; polls++) {
    const children = childPidsOf(pid);
    if (children === null || children.length === 0) return;
    if (performance.now() >= deadline) break;
    await delay(CHILDREN_POLL_MS, undefined, { signal });
  }
  throw new Error(`${label} still had child processes ${timeoutMs} ms after its client exited`);
}
