import { spawn } from "node:child_process";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { Child, earlierChildExitedSince } from "../bench/children.js";
import {
  cpuCeilingRange,
  cpuCeilingRatio,
  parseProcStat,
  procStatAvailable,
  startCpuTimer,
} from "../bench/cpu-time.js";
import { gbSha256Passes } from "../bench/case-files.js";
import { CHUNK_BYTES, cryptoPassSeconds, forEachChunk } from "../bench/crypto-cost.js";
import { runInterleaved, type Subject } from "../bench/interleave.js";
import type { BenchContext } from "../bench/programs.js";
import { newCase } from "../bench/results.js";
import { MAX_CHUNK_FRAME_BYTES } from "../src/protocol/constants.js";

/** A /proc/PID/stat line: pid, (comm), state, then fields 4 to 13, then the four times. */
function statLine(comm: string, times: [number, number, number, number]): string {
  const middle = "1 1 1 0 -1 4194304 100 0 0 0";
  return `4242 (${comm}) S ${middle} ${times.join(" ")} 20 0 1 0 5 1000 300\n`;
}

/** Burns at least `seconds` of this process's CPU time, giving up after ten times that in wall time. */
function burnCpu(seconds: number): void {
  const start = process.cpuUsage();
  const deadline = performance.now() + seconds * 10_000;
  let x = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 100_000; i++) x = (x * 31 + i) % 1_000_003;
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1e6 >= seconds) return;
  }
  throw new Error(`could not burn ${seconds} s of CPU (${x})`);
}

describe("CPU time from /proc", () => {
  it("reads the four times of a stat line", () => {
    expect(parseProcStat(statLine("node", [120, 30, 7, 2]))).toEqual({
      utime: 120,
      stime: 30,
      cutime: 7,
      cstime: 2,
    });
  });

  it("counts fields from the last parenthesis: a command name may hold spaces and parentheses", () => {
    expect(parseProcStat(statLine("a) (b c)", [5, 6, 7, 8]))).toEqual({
      utime: 5,
      stime: 6,
      cutime: 7,
      cstime: 8,
    });
  });

  it("refuses a line without the expected fields", () => {
    expect(parseProcStat("")).toBeNull();
    expect(parseProcStat("4242 node S 1 1")).toBeNull();
    expect(parseProcStat("4242 (node) S 1 1 1")).toBeNull();
    expect(parseProcStat(statLine("node", [1, -2, 3, 4]))).toBeNull();
  });

  it.runIf(procStatAvailable())("counts a running process's CPU time", () => {
    const stop = startCpuTimer(100, [process.pid]);
    burnCpu(0.2);
    const seconds = stop();
    expect(seconds).not.toBeNull();
    // /proc counts in ticks of 10 ms; the test process may use more than it burned.
    expect(seconds!).toBeGreaterThanOrEqual(0.15);
    expect(seconds!).toBeLessThan(10);
  });

  it.runIf(procStatAvailable())(
    "counts a child's CPU time once it has been waited for",
    async () => {
      const stop = startCpuTimer(100, []);
      const child = spawn(process.execPath, [
        "-e",
        // Exits 0 once it has used 0.3 s of CPU, 3 if it could not within 5 s.
        `const s = process.cpuUsage(); const end = Date.now() + 5000;
       while (Date.now() < end) { const u = process.cpuUsage(s); if (u.user + u.system >= 300000) process.exit(0); }
       process.exit(3);`,
      ]);
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code).toBe(0);
      const seconds = stop();
      expect(seconds).not.toBeNull();
      expect(seconds!).toBeGreaterThanOrEqual(0.25);
    },
  );

  it.runIf(procStatAvailable())("has no figure when a process it follows is gone", async () => {
    const child = spawn(process.execPath, ["-e", "0"]);
    await once(child, "spawn");
    const pid = child.pid!;
    const stop = startCpuTimer(100, [pid]);
    await once(child, "exit");
    expect(stop()).toBeNull();
  });
});

describe("CPU ceiling", () => {
  it("bounds a ratio by the CPU floor spread over the cores", () => {
    // The baseline takes 1 s; the subject needs 3 s of CPU: on 2 cores at least 1.5 s.
    expect(cpuCeilingRatio(1, 3, 2)).toBeCloseTo(2 / 3, 10);
    // With enough cores the ceiling is above 1: the CPU does not bound the subject.
    expect(cpuCeilingRatio(1, 3, 8)).toBeCloseTo(8 / 3, 10);
  });

  it("[K-RECEIPT-SESSION] counts gb's SHA-256 at both ends in the clear, at the server's only in a session", () => {
    expect(gbSha256Passes(false)).toBe(2);
    expect(gbSha256Passes(true)).toBe(1);
  });

  it("has no figure without the figures it needs", () => {
    expect(cpuCeilingRatio(null, 3, 2)).toBeNull();
    expect(cpuCeilingRatio(1, null, 2)).toBeNull();
    expect(cpuCeilingRatio(0, 3, 2)).toBeNull();
    expect(cpuCeilingRatio(1, 0, 2)).toBeNull();
    expect(() => cpuCeilingRatio(1, 3, 0)).toThrow(RangeError);
  });

  it("gives the lowest and highest ceiling over a baseline's repetitions", () => {
    // 1000 MB at 1000 MB/s is 1 s, and at 500 MB/s 2 s; with 1 s extra on 2 cores:
    // (1 + 1) / 2 = 1 s → 1; (3 + 1) / 2 = 2 s → 1; (2 + 1) / 2 = 1.5 s → 2 / 1.5.
    const range = cpuCeilingRange(1e9, [1000, 500, 500, 250], [1, 3, 2, null], 1, 2);
    expect(range?.min).toBeCloseTo(1, 10);
    expect(range?.max).toBeCloseTo(2 / 1.5, 10);
    expect(cpuCeilingRange(1e9, [1000], [null], 1, 2)).toBeNull();
    expect(cpuCeilingRange(1e9, [], [], 1, 2)).toBeNull();
  });

  it("cuts the crypto passes' input as gb does: whole chunks, the bytes asked for", () => {
    expect(CHUNK_BYTES).toBe(MAX_CHUNK_FRAME_BYTES);
    const source = Buffer.alloc(3 * CHUNK_BYTES + 100);
    for (const bytes of [0, 1, CHUNK_BYTES, source.length, 5 * source.length + 7]) {
      const lengths: number[] = [];
      forEachChunk(source, bytes, (chunk) => lengths.push(chunk.length));
      expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(bytes);
      expect(lengths.every((length) => length > 0 && length <= CHUNK_BYTES)).toBe(true);
    }
    expect(() => {
      forEachChunk(Buffer.alloc(0), 1, () => undefined);
    }).toThrow(RangeError);
  });

  it("measures the CPU time of a cryptographic pass", () => {
    for (const pass of ["sha256", "aes-256-gcm"] as const) {
      const seconds = cryptoPassSeconds(pass, 1024 * 1024 + 5);
      expect(Number.isFinite(seconds)).toBe(true);
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(10);
    }
  });
});

describe("CPU time of a benchmark's repetitions", () => {
  function context(cpuTicksPerSecond: number | null): BenchContext {
    const partial: Pick<BenchContext, "tools" | "signal" | "progress"> = {
      tools: {
        socat: null,
        openssl: null,
        cpuTicksPerSecond,
        sshd: null,
        scp: null,
        sshKeygen: null,
        openssh: null,
        rsync: null,
      },
      signal: new AbortController().signal,
      progress: () => undefined,
    };
    return partial as BenchContext;
  }

  function burning(name: string, cpuPids?: () => readonly number[]): Subject {
    return {
      name,
      skip: null,
      ...(cpuPids === undefined ? {} : { cpuPids }),
      measure: () => {
        burnCpu(0.05);
        return Promise.resolve(1);
      },
    };
  }

  it.runIf(procStatAvailable())(
    "records one figure per repetition for a subject that asks for it",
    async () => {
      const result = newCase(1, "test", "MB/s", true);
      const subjects = [burning("measured", () => [process.pid]), burning("unmeasured")];
      await runInterleaved(context(100), result, subjects, 3);
      const [measured, unmeasured] = result.subjects;
      expect(measured?.samples).toHaveLength(3);
      expect(measured?.cpuSeconds).toHaveLength(3);
      for (const cpu of measured?.cpuSeconds ?? []) expect(cpu).toBeGreaterThanOrEqual(0.02);
      expect(measured?.cpuMedian).not.toBeNull();
      expect(unmeasured?.cpuSeconds).toEqual([]);
      expect(unmeasured?.cpuMedian).toBeNull();
    },
  );

  it("records nothing where there is no /proc to read", async () => {
    const result = newCase(1, "test", "MB/s", true);
    await runInterleaved(context(null), result, [burning("measured", () => [process.pid])], 2);
    expect(result.subjects[0]?.cpuSeconds).toEqual([]);
    expect(result.subjects[0]?.cpuMedian).toBeNull();
  });

  it("tells when a child started earlier exited meanwhile", async () => {
    const child = new Child(process.execPath, ["-e", "setTimeout(() => {}, 100)"], {
      signal: new AbortController().signal,
      timeoutMs: 10_000,
      label: "sleeper",
    });
    const since = performance.now();
    expect(earlierChildExitedSince(since)).toBe(false);
    await child.exited;
    expect(earlierChildExitedSince(since)).toBe(true);
    // A child that started after `later` is the subject's own.
    const later = performance.now();
    const own = new Child(process.execPath, ["-e", "0"], {
      signal: new AbortController().signal,
      timeoutMs: 10_000,
      label: "own",
    });
    await own.exited;
    expect(earlierChildExitedSince(later)).toBe(false);
  });
});
