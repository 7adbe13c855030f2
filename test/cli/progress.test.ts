import { PassThrough } from "node:stream";
import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { formatDuration } from "../../src/cli/format-duration.js";
import { progressLine } from "../../src/cli/progress.js";
import { PROGRESS_EVENTS_PER_SECOND, ProgressEvents } from "../../src/cli/progress-events.js";
import { Terminal } from "../../src/cli/terminal.js";
import { parseEventLine } from "../support/json-event.js";

const MIB = 1024 * 1024;

describe("[CLI-PROGRESS] the progress line", () => {
  it("[CLI-PROGRESS] shows bytes, percent, rate and the time left", () => {
    expect(progressLine("big.iso", 30 * MIB, 100 * MIB, 3000)).toBe(
      "sending big.iso · 30 MiB of 100 MiB (30%) · 10 MiB/s · 7.0 s left",
    );
    expect(progressLine("in.bin", 2 * MIB, 4 * MIB, 1000, "receiving")).toBe(
      "receiving in.bin · 2.0 MiB of 4.0 MiB (50%) · 2.0 MiB/s · 1.0 s left",
    );
  });

  it("[CLI-PROGRESS] without a known size: bytes and rate only", () => {
    expect(progressLine("-", 5 * MIB, undefined, 1000)).toBe("sending - · 5.0 MiB · 5.0 MiB/s");
  });

  it("escapes what it shows of a name", () => {
    expect(progressLine("a\u001b]0;x\u0007", 0, 10, 0)).not.toContain("\u001b");
  });

  it("durations read as people say them", () => {
    expect([0, 850, 4200, 12_400, 185_000].map(formatDuration)).toEqual([
      "0 ms",
      "850 ms",
      "4.2 s",
      "12 s",
      "3 min 5 s",
    ]);
  });
});

describe("[CLI-JSON-PROGRESS] progress events", () => {
  function setup() {
    const stdout = new PassThrough();
    const chunks: string[] = [];
    stdout.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
    const io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
    const terminal = new Terminal(io, Chalk);
    let now = 0;
    const events = new ProgressEvents(terminal, () => now);
    const written = (): Record<string, unknown>[] => {
      terminal.flush();
      return chunks
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map(parseEventLine);
    };
    return { events, written, advance: (ms: number) => (now += ms) };
  }
  const item = { id: 1, name: "big.iso", path: "./big.iso", total: 1000 };

  it("[CLI-JSON-PROGRESS] at most 4 a second, however often bytes go out; the final one always", () => {
    const { events, written, advance } = setup();
    const updatesPerSecond = 100;
    for (let tick = 0; tick < 2 * updatesPerSecond; tick++) {
      events.update({ ...item, bytes: tick });
      advance(1000 / updatesPerSecond);
    }
    events.final({ ...item, bytes: 1000 });
    const all = written();
    expect(all).toHaveLength(2 * PROGRESS_EVENTS_PER_SECOND + 1);
    expect(all[0]).toEqual({ event: "progress", ...item, bytes: 0, final: false });
    expect(all.at(-1)).toEqual({ event: "progress", ...item, bytes: 1000, final: true });
  });
});

describe("[CLI-QUIET] the terminal with --quiet", () => {
  it("[CLI-QUIET] writes errors, warnings and JSON events; no result lines, no notes", () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on("data", (chunk: Buffer) => out.push(chunk.toString()));
    stderr.on("data", (chunk: Buffer) => err.push(chunk.toString()));
    const terminal = new Terminal(
      { stdout, stderr, stdin: new PassThrough(), env: {} },
      Chalk,
      "gb-client",
      { quiet: true },
    );
    terminal.print("✔ stored");
    terminal.note("listening");
    terminal.warn("an item failed");
    terminal.error(new Error("boom"));
    terminal.json({ event: "stored" });
    terminal.flush();
    expect(err.join("")).toBe("warning: an item failed\nerror: boom\n");
    expect(out.join("").split("\n").filter(Boolean).map(parseEventLine)).toEqual([
      { event: "stored" },
    ]);
  });
});
