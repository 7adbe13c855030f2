/**
 * Finding 20: `--dict FILE` read the whole file, however large, while stdin was capped.
 * A file over 4 × DEFAULT_DICT_LIMITS.maxBytes is refused by its size, before it is read,
 * with DICT_TOO_LARGE (exit 7); a file that has no size (a device, a pipe) and stdin are
 * cut off at the same cap.
 */
import { existsSync } from "node:fs";
import { truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { DEFAULT_DICT_LIMITS } from "../../src/codecs/limits.js";
import { fakeIo, removeTempDirs, tempDir, testEnv, withTimeout } from "../cli/fake-io.js";
import { WAIT_MS } from "../support/fake-server.js";

afterEach(removeTempDirs);

const CAP = 4 * DEFAULT_DICT_LIMITS.maxBytes;

async function run(argv: string[], input: string | Buffer = "") {
  const fake = fakeIo(await testEnv(), input);
  // Port 1: nothing may be sent; the input is refused before connecting.
  const code = await withTimeout(
    runClient(["--port", "1", ...argv], fake.io),
    WAIT_MS,
    `runClient ${argv.join(" ")}`,
  );
  return { code, stdout: fake.stdout.text, stderr: fake.stderr.text };
}

describe("--dict input size cap", () => {
  it("a file over the cap is refused by its size: DICT_TOO_LARGE, exit 7", async () => {
    const file = path.join(await tempDir("gb-dict-cap-"), "huge.json");
    await writeFile(file, "");
    await truncate(file, CAP + 1); // sparse: no disk space used
    const { code, stdout, stderr } = await run(["--dict", file]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /^error: the dictionary in .*huge\.json is too large \(more than 64 MiB\)\n$/,
    );
    expect(stderr).not.toContain("not valid JSON");
  });

  it("a file of exactly the cap is read (and here found not to be JSON)", async () => {
    const file = path.join(await tempDir("gb-dict-cap-"), "big.json");
    await writeFile(file, "");
    await truncate(file, CAP);
    const { code, stderr } = await run(["--dict", file]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stderr).toMatch(/big\.json:1:1: not a valid dictionary/);
  });

  it("stdin over the cap: DICT_TOO_LARGE, exit 7", async () => {
    const { code, stderr } = await run(["--dict", "-"], Buffer.alloc(CAP + 1, 0x20));
    expect(code).toBe(ExitCode.INPUT);
    expect(stderr).toMatch(/^error: the dictionary on stdin is too large/);
  });

  // Before the fix this read /dev/zero until memory ran out; do not revert it lightly.
  it.runIf(existsSync("/dev/zero"))(
    "a device with no size (/dev/zero) is cut off at the cap",
    async () => {
      const { code, stderr } = await run(["--dict", "/dev/zero"]);
      expect(code).toBe(ExitCode.INPUT);
      expect(stderr).toMatch(/^error: the dictionary in \/dev\/zero is too large/);
    },
  );

  it("a missing file is still INPUT_UNREADABLE", async () => {
    const { code, stderr } = await run(["--dict", path.join(await tempDir(), "nope.json")]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stderr).toMatch(/^error: cannot read .*nope\.json: ENOENT/);
  });
});
