import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
/**
 * Terminal holds result lines (print, json) and writes them in one write at the end of
 * the event-loop turn, or sooner: on flush(), before any diagnostic on stderr, and once
 * 64 KiB are held.
 */
import { Chalk } from "chalk";
import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { Terminal } from "../../src/cli/terminal.js";
import { CryptoError, ErrorCode } from "../../src/errors.js";

/** Characters held before the terminal writes without waiting for the end of the turn. */
const HOLD_LIMIT = 64 * 1024;

/** Resolves after the terminal's end-of-turn flush (scheduled earlier with setImmediate). */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function chunkText(chunk: unknown): string {
  if (typeof chunk === "string") return chunk;
  if (Buffer.isBuffer(chunk)) return chunk.toString("utf8");
  throw new Error(`unexpected chunk ${String(chunk)}`);
}

function newTerminal() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  // Nothing reads these streams; keep them flowing so no buffer fills.
  stdout.resume();
  stderr.resume();
  const outWrite = vi.spyOn(stdout, "write");
  const errWrite = vi.spyOn(stderr, "write");
  const terminal = new Terminal(
    { stdout, stderr, stdin: new PassThrough(), env: { NO_COLOR: "1" } },
    Chalk,
  );
  /** Every write to either stream, in the order it was made. */
  const log = (): [string, string][] => {
    const calls = [
      ...outWrite.mock.calls.map((call, index): [number, string, string] => [
        outWrite.mock.invocationCallOrder[index]!,
        "stdout",
        chunkText(call[0]),
      ]),
      ...errWrite.mock.calls.map((call, index): [number, string, string] => [
        errWrite.mock.invocationCallOrder[index]!,
        "stderr",
        chunkText(call[0]),
      ]),
    ];
    return calls.sort((a, b) => a[0] - b[0]).map(([, stream, text]) => [stream, text]);
  };
  return { terminal, outWrite, errWrite, log };
}

describe("Terminal batching", () => {
  it("writes the print and json lines of one turn in exactly one write, at the end of the turn", async () => {
    const { terminal, outWrite, log } = newTerminal();
    terminal.print("first");
    terminal.json({ id: 1 });
    terminal.print("");
    terminal.json({ id: 2, name: "x\u009by" });
    expect(outWrite).not.toHaveBeenCalled();
    await endOfTurn();
    expect(outWrite).toHaveBeenCalledTimes(1);
    expect(log()).toEqual([["stdout", 'first\n{"id":1}\n\n{"id":2,"name":"x\\u009by"}\n']]);
  });

  it("writes each turn's lines in a write of their own", async () => {
    const { terminal, log } = newTerminal();
    terminal.print("a");
    terminal.print("b");
    await endOfTurn();
    terminal.print("c");
    await endOfTurn();
    await endOfTurn();
    expect(log()).toEqual([
      ["stdout", "a\nb\n"],
      ["stdout", "c\n"],
    ]);
  });

  it("writes nothing when nothing was printed", async () => {
    const { terminal, outWrite } = newTerminal();
    terminal.flush();
    await endOfTurn();
    expect(outWrite).not.toHaveBeenCalled();
  });

  it("flush() writes the held lines at once, and the end of the turn writes nothing more", async () => {
    const { terminal, outWrite, log } = newTerminal();
    terminal.print("one");
    terminal.json({ n: 2 });
    terminal.flush();
    expect(outWrite).toHaveBeenCalledTimes(1);
    expect(log()).toEqual([["stdout", 'one\n{"n":2}\n']]);
    terminal.flush();
    await endOfTurn();
    expect(outWrite).toHaveBeenCalledTimes(1);
  });

  it("lines printed after a flush() in the same turn leave at the end of the turn", async () => {
    const { terminal, log } = newTerminal();
    terminal.print("before");
    terminal.flush();
    terminal.print("after");
    expect(log()).toEqual([["stdout", "before\n"]]);
    await endOfTurn();
    expect(log()).toEqual([
      ["stdout", "before\n"],
      ["stdout", "after\n"],
    ]);
  });

  it("keeps the order of print, note, print across stdout and stderr", async () => {
    const { terminal, log } = newTerminal();
    terminal.print("result 1");
    terminal.note("status");
    terminal.print("result 2");
    expect(log()).toEqual([
      ["stdout", "result 1\n"],
      ["stderr", "status\n"],
    ]);
    await endOfTurn();
    expect(log()).toEqual([
      ["stdout", "result 1\n"],
      ["stderr", "status\n"],
      ["stdout", "result 2\n"],
    ]);
  });

  it("flushes held lines before warn, error and hint too", async () => {
    const { terminal, log } = newTerminal();
    terminal.print("a");
    terminal.warn("careful");
    terminal.json({ b: 1 });
    terminal.error(
      new CryptoError(ErrorCode.KEY_MISSING, "no key", { hint: "make one" }),
      "client",
    );
    terminal.print("c");
    terminal.hint("later");
    terminal.print("d");
    await endOfTurn();
    expect(log()).toEqual([
      ["stdout", "a\n"],
      ["stderr", "warning: careful\n"],
      ["stdout", '{"b":1}\n'],
      ["stderr", "error: client: no key\n"],
      ["stderr", "hint: make one\n"],
      ["stdout", "c\n"],
      ["stderr", "hint: later\n"],
      ["stdout", "d\n"],
    ]);
  });

  it("writes at once, without waiting for the end of the turn, once 64 KiB are held", async () => {
    const { terminal, outWrite, log } = newTerminal();
    const big = "x".repeat(40 * 1024);
    const bigger = "y".repeat(30 * 1024);
    terminal.print(big);
    expect(outWrite).not.toHaveBeenCalled();
    terminal.print(bigger);
    expect(outWrite).toHaveBeenCalledTimes(1);
    expect(log()).toEqual([["stdout", `${big}\n${bigger}\n`]]);
    terminal.print("tail");
    expect(outWrite).toHaveBeenCalledTimes(1);
    await endOfTurn();
    expect(log()).toEqual([
      ["stdout", `${big}\n${bigger}\n`],
      ["stdout", "tail\n"],
    ]);
  });

  it("holds 64 KiB less one character, and writes at the character that reaches 64 KiB", async () => {
    const { terminal, outWrite, log } = newTerminal();
    const line = "z".repeat(HOLD_LIMIT - 2); // with its newline, 64 KiB - 1 held
    terminal.print(line);
    expect(outWrite).not.toHaveBeenCalled();
    terminal.print(""); // one more newline: exactly 64 KiB
    expect(outWrite).toHaveBeenCalledTimes(1);
    expect(log()).toEqual([["stdout", `${line}\n\n`]]);
    await endOfTurn();
    expect(outWrite).toHaveBeenCalledTimes(1);
  });

  it("writes a single line longer than 64 KiB at once, then holds again", async () => {
    const { terminal, outWrite, log } = newTerminal();
    const huge = JSON.stringify({ blob: "q".repeat(HOLD_LIMIT + 100) });
    terminal.json(JSON.parse(huge) as object);
    expect(outWrite).toHaveBeenCalledTimes(1);
    terminal.print("next");
    terminal.print("and next");
    expect(outWrite).toHaveBeenCalledTimes(1);
    await endOfTurn();
    expect(log()).toEqual([
      ["stdout", `${huge}\n`],
      ["stdout", "next\nand next\n"],
    ]);
  });

  it("writes many turns' worth of lines in bounded writes, none lost or reordered", async () => {
    const { terminal, outWrite } = newTerminal();
    const lines = Array.from({ length: 5000 }, (_, index) => `line ${index} ${"p".repeat(40)}`);
    for (const line of lines) terminal.print(line);
    const syncWrites = outWrite.mock.calls.length;
    expect(syncWrites).toBeGreaterThan(0); // more than 64 KiB were printed
    expect(syncWrites).toBeLessThanOrEqual(Math.ceil((5000 * 52) / HOLD_LIMIT));
    await endOfTurn();
    const written = outWrite.mock.calls.map((call) => chunkText(call[0])).join("");
    expect(written).toBe(lines.map((line) => `${line}\n`).join(""));
    for (const call of outWrite.mock.calls.slice(0, syncWrites)) {
      const text = chunkText(call[0]);
      expect(text.length).toBeGreaterThanOrEqual(HOLD_LIMIT);
      expect(text.length).toBeLessThan(HOLD_LIMIT + 60);
    }
  });
});

describe("Terminal lines held when the process exits", () => {
  it("are written even by process.exit() in the same turn", () => {
    const terminalModule = pathToFileURL(
      fileURLToPath(new URL("../../dist/cli/terminal.js", import.meta.url)),
    ).href;
    const script = [
      `import { Terminal } from ${JSON.stringify(terminalModule)};`,
      `import { Chalk } from "chalk";`,
      `const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: {} };`,
      `const terminal = new Terminal(io, Chalk);`,
      `terminal.print("one");`,
      `terminal.json({ n: 2 });`,
      `process.exit(0);`,
    ].join("\n");
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('one\n{"n":2}\n');
  });
});
