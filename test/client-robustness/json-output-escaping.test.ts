/**
 * Finding 17: `--json` lines passed DEL, C1 and bidirectional control characters through
 * raw (JSON.stringify escapes only C0). Terminal.json escapes them as \uXXXX, which is
 * still valid JSON and parses back to the same value.
 */
import { Chalk } from "chalk";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { Terminal } from "../../src/cli/terminal.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout } from "../cli/fake-io.js";
import { Output } from "../support/output.js";
import { SAMPLE_TEXT } from "../support/samples.js";
import { closeFakeServers, fakeServer, WAIT_MS } from "../support/fake-server.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

/** Characters a terminal may act on, beyond C0: DEL, C1 (CSI, NEL, OSC…), bidi and invisible ones. */
const UNSAFE_RAW =
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

const HOSTILE =
  "a\u007fb\u0085c\u009b2Jd\u009d0;pwned\u009ce\u202egnp.exe\u2066f\u200bg\ufeffh\u2028i" +
  "\\\u202ej" + // a backslash right before an escaped character stays a backslash
  "\x1b[2J\u0007\n\t" + // C0, already escaped by JSON.stringify
  "é中😀\ud800z"; // printable non-ASCII stays raw; a lone surrogate is escaped

function jsonLine(value: object): string {
  const stdout = new PassThrough();
  const output = new Output(stdout, WAIT_MS);
  const terminal = new Terminal(
    {
      stdout,
      stderr: new PassThrough(),
      stdin: new PassThrough(),
      env: { NO_COLOR: "1" },
    },
    Chalk,
  );
  terminal.json(value);
  terminal.flush();
  return output.text;
}

describe("Terminal.json", () => {
  it("escapes DEL, C1, bidi and invisible characters, and still parses to the same value", () => {
    const value = { name: HOSTILE, nested: { [HOSTILE]: [HOSTILE, 1, null, true] } };
    const text = jsonLine(value);
    expect(text.endsWith("\n")).toBe(true);
    const line = text.slice(0, -1);
    expect(line).not.toContain("\n");
    expect(UNSAFE_RAW.test(line)).toBe(false);
    expect(line).toContain("\\u007f");
    expect(line).toContain("\\u009b");
    expect(line).toContain("\\u202e");
    expect(line).toContain("é中😀");
    expect(JSON.parse(line)).toEqual(value);
  });

  it("leaves ordinary output exactly as JSON.stringify writes it", () => {
    const value = { id: 1, name: "notes.txt", savedAs: null, ok: true };
    expect(jsonLine(value)).toBe(`${JSON.stringify(value)}\n`);
  });

  it("[CLI-JSON-TIME] puts an event's time (ISO 8601, UTC, ms) right after its name", () => {
    const line = jsonLine({ event: "stored", id: 1 });
    expect(line).toMatch(
      /^\{"event":"stored","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","id":1\}\n$/,
    );
  });
});

describe("gb-client --json with a hostile savedAs", () => {
  it("prints no raw C1 or bidi character, and the line parses to the server's string", async () => {
    const hostile = "x\u009b2J\u202ey\u007f";
    const port = await fakeServer((peer) => {
      peer.greet();
      peer.onItemEnd = (item) => {
        peer.receipt(item, hostile);
      };
    });
    const fake = fakeIo(await testEnv());
    const code = await withTimeout(
      runClient(["--port", String(port), "--json", "--file", SAMPLE_TEXT], fake.io),
      WAIT_MS,
      "runClient",
    );
    expect(code).toBe(ExitCode.OK);
    for (const line of fake.stdout.lines) expect(UNSAFE_RAW.test(line)).toBe(false);
    expect(fake.stdout.json).toEqual([
      expect.objectContaining({ event: "stored", savedAs: hostile }),
    ]);
  });
});
