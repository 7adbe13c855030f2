/**
 * gb-server reports accept errors rate-limited: the first at once (with a hint), the
 * rest of a storm counted and reported once per interval, the remainder at shutdown.
 */
import { parseEventLine } from "../support/json-event.js";
import { Chalk } from "chalk";
import { PassThrough, Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ACCEPT_ERROR_REPORT_INTERVAL_MS,
  AcceptErrorReporter,
} from "../../src/cli/accept-error-reporter.js";
import { Terminal } from "../../src/cli/terminal.js";
import { ErrorCode, NetworkError } from "../../src/errors.js";

/** A stream that keeps what is written to it, synchronously. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      callback();
    },
  });
  return { stream, text: () => chunks.join("") };
}

function setup(json: boolean) {
  const stdout = collector();
  const stderr = collector();
  const terminal = new Terminal(
    {
      stdout: stdout.stream,
      stderr: stderr.stream,
      stdin: new PassThrough(),
      env: { NO_COLOR: "1" },
    },
    Chalk,
    "gb-server",
  );
  const reporter = new AcceptErrorReporter(terminal, json);
  const events = (): Record<string, unknown>[] => {
    terminal.flush();
    return stdout
      .text()
      .split("\n")
      .filter((line) => line !== "")
      .map(parseEventLine);
  };
  const warnings = (): string[] =>
    stderr
      .text()
      .split("\n")
      .filter((line) => line !== "");
  return { reporter, events, warnings };
}

function acceptError(code: string): NetworkError {
  const cause: NodeJS.ErrnoException = new Error(`accept ${code}`);
  cause.code = code;
  return new NetworkError(ErrorCode.CONNECT_FAILED, `cannot accept a connection: accept ${code}`, {
    cause,
  });
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe("AcceptErrorReporter", () => {
  it("a storm of 1000 EMFILE in one interval: one line and a hint at once, one line at its end", () => {
    const { reporter, warnings } = setup(false);
    for (let i = 0; i < 1000; i++) reporter.report(acceptError("EMFILE"));
    expect(warnings()).toEqual([
      "warning: cannot accept a connection: accept EMFILE",
      "hint: the server is out of file descriptors: raise the limit (ulimit -n) or lower --max-connections",
    ]);
    vi.advanceTimersByTime(ACCEPT_ERROR_REPORT_INTERVAL_MS);
    expect(warnings().slice(2)).toEqual([
      "warning: 999 more connections could not be accepted; the last: cannot accept a connection: accept EMFILE",
    ]);
    // Quiet since: nothing more, now or later.
    vi.advanceTimersByTime(10 * ACCEPT_ERROR_REPORT_INTERVAL_MS);
    reporter.flush();
    expect(warnings()).toHaveLength(3);
  });

  it("--json: acceptError events whose count adds up to every error, the rest at shutdown", () => {
    const { reporter, events } = setup(true);
    reporter.report(acceptError("EMFILE"));
    reporter.report(acceptError("EMFILE"));
    reporter.report(acceptError("ENFILE"));
    expect(events()).toEqual([
      {
        event: "acceptError",
        code: "CONNECT_FAILED",
        errno: "EMFILE",
        message: "cannot accept a connection: accept EMFILE",
        count: 1,
      },
    ]);
    vi.advanceTimersByTime(ACCEPT_ERROR_REPORT_INTERVAL_MS);
    // The storm goes on into the next interval, which shutdown cuts short.
    for (let i = 0; i < 5; i++) reporter.report(acceptError("EMFILE"));
    expect(events()).toHaveLength(2);
    reporter.flush();
    const all = events();
    expect(all.map((event) => [event["errno"], event["count"]])).toEqual([
      ["EMFILE", 1],
      ["ENFILE", 2],
      ["EMFILE", 5],
    ]);
    expect(all.reduce((sum, event) => sum + Number(event["count"]), 0)).toBe(8);
  });

  it("errors further apart than the interval are each reported at once; the hint only once", () => {
    const { reporter, warnings } = setup(false);
    reporter.report(acceptError("EMFILE"));
    vi.advanceTimersByTime(ACCEPT_ERROR_REPORT_INTERVAL_MS);
    reporter.report(acceptError("ENFILE"));
    expect(warnings()).toEqual([
      "warning: cannot accept a connection: accept EMFILE",
      "hint: the server is out of file descriptors: raise the limit (ulimit -n) or lower --max-connections",
      "warning: cannot accept a connection: accept ENFILE",
    ]);
  });
});
