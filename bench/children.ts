/**
 * Child processes for the benchmark: every child is registered so that none outlives the
 * run, is bounded in time, dies when the run or its case is aborted, and has its exit
 * time taken in the exit event (for timings).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";

/** Every child still running, so that the run can kill them all when it ends. */
const live = new Set<ChildProcess>();

/** Kills every child still running (synchronous: safe in an exit handler). */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  live.clear();
}

export function liveChildCount(): number {
  return live.size;
}

/** When recent children started and exited (performance.now()), newest last. */
const recentExits: { readonly startedAt: number; readonly exitedAt: number }[] = [];
const RECENT_EXITS_KEPT = 256;

/**
 * Whether a child started before `since` has exited after it. A CPU time read from
 * /proc/self/stat's children's times would then include that child's whole life (a
 * server of another subject that died, a child killed after an earlier case).
 */
export function earlierChildExitedSince(since: number): boolean {
  return recentExits.some((exit) => exit.exitedAt >= since && exit.startedAt < since);
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() when the exit event arrived. */
  readonly at: number;
  /** Killed because it ran longer than its time limit. */
  readonly timedOut: boolean;
  /** Killed because the run or the case was aborted. */
  readonly aborted: boolean;
  /** Set when the process could not be started. */
  readonly spawnError: Error | null;
}

export interface StartOptions {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** A short name for messages, such as "gb-client". */
  readonly label: string;
}

/** How much of each output stream is kept for messages and parsing. */
const KEPT_OUTPUT_CHARS = 64 * 1024;

type Stream = "stdout" | "stderr";

type LineListener = (line: string) => void;

/** A running child: its exit, its output (the first and last bits), and its lines as they come. */
export class Child {
  readonly label: string;
  readonly process: ChildProcess;
  /** performance.now() just before the process was spawned. */
  readonly startedAt: number;
  readonly exited: Promise<ExitInfo>;
  readonly #head: Record<Stream, string> = { stdout: "", stderr: "" };
  /** Recent chunks, oldest first; together at least the last KEPT_OUTPUT_CHARS when there were that many. */
  readonly #tail: Record<Stream, string[]> = { stdout: [], stderr: [] };
  readonly #tailChars: Record<Stream, number> = { stdout: 0, stderr: 0 };
  readonly #partial: Record<Stream, string> = { stdout: "", stderr: "" };
  readonly #lineListeners: Record<Stream, Set<LineListener>> = {
    stdout: new Set(),
    stderr: new Set(),
  };
  #exitInfo: ExitInfo | null = null;

  constructor(command: string, args: readonly string[], options: StartOptions) {
    this.label = options.label;
    if (options.signal.aborted) throw new Error(`not starting ${options.label}: run aborted`);
    this.startedAt = performance.now();
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    this.process = child;
    live.add(child);
    let timedOut = false;
    let aborted = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      child.kill("SIGKILL");
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    for (const stream of ["stdout", "stderr"] as const) {
      const readable = child[stream];
      readable.setEncoding("utf8");
      readable.on("data", (text: string) => {
        this.#take(stream, text);
      });
    }
    this.exited = new Promise<ExitInfo>((resolve) => {
      const record = (
        code: number | null,
        signal: NodeJS.Signals | null,
        spawnError: Error | null,
      ): ExitInfo => {
        if (this.#exitInfo !== null) return this.#exitInfo;
        const at = performance.now();
        clearTimeout(timer);
        options.signal.removeEventListener("abort", onAbort);
        live.delete(child);
        this.#exitInfo = { code, signal, at, timedOut, aborted, spawnError };
        recentExits.push({ startedAt: this.startedAt, exitedAt: at });
        if (recentExits.length > RECENT_EXITS_KEPT) recentExits.shift();
        return this.#exitInfo;
      };
      // The exit time is taken at "exit"; the promise resolves at "close", once all of the
      // child's output has been read.
      child.once("exit", (code, signal) => {
        record(code, signal, null);
      });
      child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
        resolve(record(code, signal, null));
      });
      child.once("error", (error) => {
        // A process that failed to start emits no exit event; one that did start ignores this.
        if (child.pid === undefined) resolve(record(null, null, error));
      });
    });
  }

  #take(stream: Stream, text: string): void {
    if (this.#head[stream].length < KEPT_OUTPUT_CHARS) {
      this.#head[stream] += text.slice(0, KEPT_OUTPUT_CHARS - this.#head[stream].length);
    }
    const tail = this.#tail[stream];
    tail.push(text);
    this.#tailChars[stream] += text.length;
    while (tail.length > 1 && this.#tailChars[stream] - tail[0]!.length >= KEPT_OUTPUT_CHARS) {
      this.#tailChars[stream] -= tail.shift()!.length;
    }
    const listeners = this.#lineListeners[stream];
    if (listeners.size === 0) {
      this.#partial[stream] = "";
      return;
    }
    const lines = (this.#partial[stream] + text).split("\n");
    this.#partial[stream] = lines.pop() ?? "";
    for (const line of lines) {
      for (const listener of listeners) listener(line);
    }
  }

  /** The first part of what the child wrote on `stream` (up to 64 KiB). */
  head(stream: Stream): string {
    return this.#head[stream];
  }

  /** The last part of what the child wrote on `stream` (up to 64 KiB). */
  tail(stream: Stream): string {
    return this.#tail[stream].join("").slice(-KEPT_OUTPUT_CHARS);
  }

  get running(): boolean {
    return this.#exitInfo === null;
  }

  /**
   * Resolves with the first value `match` returns for a line on `stream` (lines written
   * from now on); rejects when the child exits first or after `timeoutMs`.
   */
  waitForLine<T>(
    stream: Stream,
    match: (line: string) => T | undefined,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const listeners = this.#lineListeners[stream];
      let settled = false;
      const settle = (): void => {
        settled = true;
        listeners.delete(listener);
        clearTimeout(timer);
      };
      const listener: LineListener = (line) => {
        if (settled) return;
        const value = match(line);
        if (value === undefined) return;
        settle();
        resolve(value);
      };
      const timer = setTimeout(() => {
        if (settled) return;
        settle();
        reject(new Error(`${this.label} gave no ready line within ${timeoutMs} ms`));
      }, timeoutMs);
      listeners.add(listener);
      void this.exited.then((info) => {
        if (settled) return;
        settle();
        reject(new Error(`${this.label} exited before it was ready: ${this.describeExit(info)}`));
      });
    });
  }

  /** A message for how the child ended, with the end of its error output. */
  describeExit(info: ExitInfo): string {
    let what: string;
    if (info.spawnError !== null) what = `could not start: ${info.spawnError.message}`;
    else if (info.timedOut) what = "killed after its time limit";
    else if (info.aborted) what = "killed: run aborted";
    else if (info.signal !== null) what = `killed by ${info.signal}`;
    else what = `exit code ${String(info.code)}`;
    const stderr = this.tail("stderr").trim().split("\n").slice(-5).join(" | ");
    return stderr === "" ? what : `${what}; stderr: ${stderr}`;
  }

  /** Waits for the child to exit with code 0; throws a descriptive error otherwise. */
  async succeeded(): Promise<ExitInfo> {
    const info = await this.exited;
    if (info.code !== 0) throw new Error(`${this.label}: ${this.describeExit(info)}`);
    return info;
  }

  /** Sends `signal` (if still running) and waits for the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<ExitInfo> {
    if (this.running) this.process.kill(signal);
    const timer = setTimeout(() => {
      this.process.kill("SIGKILL");
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
