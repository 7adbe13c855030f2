import { createServer } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { SAMPLES, SAMPLE_TEXT as NOTES } from "../support/samples.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout, WAIT_MS } from "./fake-io.js";

afterEach(removeTempDirs);

async function run(argv: string[], input: string | Buffer = "") {
  const fake = fakeIo(await testEnv(), input);
  const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, `runClient ${argv.join(" ")}`);
  return { code, stdout: fake.stdout.text, stderr: fake.stderr.text };
}

describe("runClient --help / --version", () => {
  it("--help writes usage, options and examples to stdout and returns 0", async () => {
    const { code, stdout, stderr } = await run(["--help"]);
    expect(code).toBe(ExitCode.OK);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^Usage: gb-client \[options\]/);
    for (const option of [
      "--dict <file>",
      "--format <format>",
      "--file <path>",
      "--encrypt",
      "--key-file <path>",
      "--json",
      "--port <number>",
      "--host <address>",
    ]) {
      expect(stdout).toContain(option);
    }
    expect(stdout).toContain("Examples:");
    expect(stdout).toMatch(/choices: "json", "binary",\s+"xml"/);
    expect(stdout).toContain("Exit codes: 0 all stored and verified");
    // No colour codes in captured output.
    expect(stdout).not.toContain("\x1b");
  });

  it("-h is --help; --version and -V print the version", async () => {
    expect((await run(["-h"])).stdout).toContain("Examples:");
    for (const flag of ["--version", "-V"]) {
      const result = await run([flag]);
      expect(result).toEqual({ code: ExitCode.OK, stdout: "gb-client 2.0.0\n", stderr: "" });
    }
  });
});

describe("[CLI-OPTIONS] runClient usage errors", () => {
  it.each([
    [
      [],
      /^error: nothing to send: give --dict FILE and\/or --file PATH\nhint: run gb-client --help for examples\n$/,
    ],
    [["--bogus"], /^error: unknown option '--bogus'\nhint: run gb-client --help for usage\n$/],
    [
      ["--file", NOTES, "--format", "yaml"],
      /argument 'yaml' is invalid\. Allowed choices are json, binary, xml\./,
    ],
    [
      ["--file", NOTES, "--port", "abc"],
      /argument 'abc' is invalid\. expected a port number from 1 to 65535\./,
    ],
    [["--file", NOTES, "--port", "0"], /expected a port number from 1 to 65535/],
    [["--file", NOTES, "--port", "-1"], /^error: /],
    [["--dict"], /argument missing/],
    [
      ["--file", "-", "--dict", "-"],
      /^error: standard input \(-\) can be used for one item only\nhint: read the other items from files\n$/,
    ],
    [
      ["--file", NOTES, "stray"],
      /^error: unexpected argument 'stray': items are named by an option\nhint: did you mean --file stray\?\n$/,
    ],
    [["notes.txt"], /\nhint: did you mean --file notes\.txt\?\n$/],
    [["data.json"], /\nhint: did you mean --dict data\.json\?\n$/],
    [
      ["--file", NOTES, "--format", "xml"],
      /^error: --format applies to dictionaries, and no --dict was given\nhint: /,
    ],
    [
      ["--file", NOTES, "--name", "other.txt"],
      /^error: --name names the item read from standard input, and none was given\nhint: /,
    ],
    [["--dict", "-", "--dict", "-"], /^error: standard input \(-\) can be used for one item only/],
  ])("%j returns 2 with an error on stderr and nothing on stdout", async (argv, message) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(ExitCode.USAGE);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
  });
});

describe("runClient local failures", () => {
  it("a missing --file returns 7 before connecting", async () => {
    const { code, stderr } = await run(["--file", path.join(SAMPLES, "nope.txt")]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stderr).toMatch(/^error: cannot read .*nope\.txt: ENOENT/);
    expect(stderr).toContain("hint: check the path given to --file");
  });

  it("a dictionary on stdin that is not an object returns 7", async () => {
    expect((await run(["--dict", "-"], "[1, 2, 3]")).code).toBe(ExitCode.INPUT);
    expect((await run(["--dict", "-"], "")).code).toBe(ExitCode.INPUT);
    expect((await run(["--dict", "-"], "{ nope")).stderr).toMatch(
      /^error: -:1:3: not a valid dictionary: /,
    );
  });

  it("a device given to --file returns 7 before connecting, with the hint to read it through stdin", async () => {
    const { code, stdout, stderr } = await run(["--port", "1", "--file", "/dev/null"]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "error: /dev/null is not a regular file\n" +
        "hint: --file sends regular files and directories (a device or FIFO: read it through --file -)\n",
    );
  });

  it("[T-WALK] a directory given to --file is walked before connecting: with no server, exit 3", async () => {
    const { code, stderr } = await run(["--port", "1", "--file", SAMPLES]);
    expect(code).toBe(ExitCode.NETWORK);
    expect(stderr).toMatch(/^error: /);
  });

  it("a --dict that is not a valid dictionary names the file, line and column, shows the line with a caret, and gets the --dict hint", async () => {
    const notJson = await run(["--port", "1", "--dict", "-"], '{"a": 1,\n  "b": nope}');
    expect(notJson.code).toBe(ExitCode.INPUT);
    expect(notJson.stderr).toBe(
      "error: -:2:8: not a valid dictionary: expected a value\n" +
        '  2 |   "b": nope}\n' +
        "    |        ^\n" +
        "hint: --dict expects a file holding one JSON object, such as samples/data.json\n",
    );
    const notObject = await run(["--port", "1", "--dict", "-"], "[1, 2, 3]");
    expect(notObject.code).toBe(ExitCode.INPUT);
    expect(notObject.stderr).toMatch(
      /^error: -:1:1: not a valid dictionary: [^\n]*\n {2}1 \| \[1, 2, 3\]\n {4}\| \^\n/,
    );
  });

  it("a --dict file may start with a byte-order mark (editors on Windows write one)", async () => {
    const { code, stderr } = await run(["--port", "1", "--dict", "-"], '\ufeff{"a": 1}');
    expect(stderr).not.toContain("not a valid dictionary");
    expect(code).toBe(ExitCode.NETWORK);
  });

  it("[CLI-OPTIONS] a directory given to --dict returns 7 before connecting, saying it is a directory", async () => {
    const { code, stdout, stderr } = await run(["--port", "1", "--dict", SAMPLES]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `error: ${SAMPLES} is a directory, not a file holding a dictionary\n` +
        "hint: --dict takes a file holding one JSON object; send the files of a directory with --file\n",
    );
  });

  it("a missing --dict file returns 7 without the --file hint", async () => {
    const { code, stderr } = await run(["--port", "1", "--dict", path.join(SAMPLES, "nope.json")]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stderr).toMatch(/^error: cannot read .*nope\.json: ENOENT[^\n]*\n$/);
  });

  it("nothing listening returns 3", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const address = holder.address();
    await new Promise<void>((resolve) =>
      holder.close(() => {
        resolve();
      }),
    );
    if (address === null || typeof address === "string") throw new Error("no port");
    const { code, stderr } = await run(["--port", String(address.port), "--file", NOTES]);
    expect(code).toBe(ExitCode.NETWORK);
    expect(stderr).toMatch(/^error: cannot connect to 127\.0\.0\.1:\d+: /);
  });
});
