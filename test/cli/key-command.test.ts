import { parseEventLine } from "../support/json-event.js";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { hintFor } from "../../src/cli/hints.js";
import { runKey } from "../../src/cli/key-command.js";
import { KEY_FILE_HEADER, readKeyFile } from "../../src/crypto/key-file.js";
import { keyFingerprint } from "../../src/crypto/key-fingerprint.js";
import { encodeKeyText } from "../../src/crypto/key-text.js";
import { ErrorCode, errorFromPeer, isErrorCode } from "../../src/errors.js";
import { SOFTWARE_VERSION } from "../../src/transfer/software-name.js";
import { keyTextVectors } from "../crypto/key-text-vectors.js";
import { fakeIo, removeTempDirs, tempDir, testEnv, withTimeout, WAIT_MS } from "./fake-io.js";

afterEach(removeTempDirs);

const posix = process.platform !== "win32";
const VECTOR = keyTextVectors.keys[0]!;
const VECTOR_KEY = Buffer.from(VECTOR.key, "hex");
const OTHER = keyTextVectors.keys[1]!;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(
  argv: string[],
  env: NodeJS.ProcessEnv,
  input: string | Buffer | PassThrough = "",
): Promise<Run> {
  const fake = fakeIo(env, input instanceof PassThrough ? null : input);
  const io = input instanceof PassThrough ? { ...fake.io, stdin: input } : fake.io;
  const code = await withTimeout(runKey(argv, io), WAIT_MS, `gb-key ${argv.join(" ")}`);
  return { code, stdout: fake.stdout.text, stderr: fake.stderr.text };
}

/** The per-user key file of a test environment. */
function defaultKeyFile(env: NodeJS.ProcessEnv): string {
  return path.join(env["XDG_CONFIG_HOME"]!, "gb-transfer", "key");
}

/** Writes a valid key file holding `key`, mode 0600. */
async function writeKey(file: string, key: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${KEY_FILE_HEADER}\n${key.toString("hex")}\n`, { mode: 0o600 });
}

function jsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split("\n").filter((line) => line !== "");
  expect(lines).toHaveLength(1);
  return parseEventLine(lines[0]!);
}

function mode(stats: { mode: number }): number {
  return stats.mode & 0o777;
}

describe("gb-key --help / --version / usage", () => {
  it("--help lists the subcommands, examples and exit codes on stdout and returns 0", async () => {
    const { code, stdout, stderr } = await run(["--help"], await testEnv());
    expect(code).toBe(ExitCode.OK);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^Usage: gb-key \[options\] \[command\]/);
    for (const name of ["generate", "fingerprint", "export", "import"]) {
      expect(stdout).toMatch(new RegExp(`^  ${name} \\[options\\]`, "m"));
    }
    expect(stdout).toContain("Examples:");
    expect(stdout).toContain("gb-key export | ssh HOST gb-key import");
    expect(stdout).toContain("Exit codes: 0 done, 2 usage");
    expect(stdout).not.toContain("\x1b");
  });

  it.each([
    ["generate", ["--key-file <path>", "--json", "--force"]],
    ["fingerprint", ["--key-file <path>", "--json"]],
    ["export", ["--key-file <path>", "--json"]],
    ["import", ["--key-file <path>", "--json", "--force"]],
  ])("%s --help lists its options and an example", async (name, options) => {
    const { code, stdout } = await run([name, "--help"], await testEnv());
    expect(code).toBe(ExitCode.OK);
    expect(stdout).toMatch(new RegExp(`^Usage: gb-key ${name} \\[options\\]`));
    for (const option of options) expect(stdout).toContain(option);
    expect(stdout).toMatch(/Examples?:\n {2}\$ gb-key/);
    if (!options.includes("--force")) expect(stdout).not.toContain("--force");
  });

  it("--version and -V print the version", async () => {
    for (const flag of ["--version", "-V"]) {
      expect(await run([flag], await testEnv())).toEqual({
        code: ExitCode.OK,
        stdout: `gb-key ${SOFTWARE_VERSION}\n`,
        stderr: "",
      });
    }
  });

  it.each([
    [[], /hint: run gb-key --help for usage\n$/],
    [["rotate"], /^error: unknown command 'rotate'/],
    [["generate", "--bogus"], /^error: unknown option '--bogus'/],
    [["fingerprint", "--force"], /^error: unknown option '--force'/],
    [["export", "extra"], /^error: too many arguments/],
    [["import", "--key-file"], /argument missing/],
  ])("%j returns 2 with an error on stderr and nothing on stdout", async (argv, message) => {
    const env = await testEnv();
    const { code, stdout, stderr } = await run(argv, env);
    expect(code).toBe(ExitCode.USAGE);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    // A usage error touches nothing.
    await expect(stat(defaultKeyFile(env))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("gb-key generate", () => {
  it("creates the per-user key file, mode 0600 in a 0700 directory, and prints where and its fingerprint", async () => {
    const env = await testEnv();
    const { code, stdout, stderr } = await run(["generate"], env);
    expect(code).toBe(ExitCode.OK);
    const keyFile = defaultKeyFile(env);
    const key = await readKeyFile(keyFile);
    expect(stdout).toBe(
      `created key file ${keyFile} (readable by you only)\nfingerprint ${keyFingerprint(key)}\n`,
    );
    expect(stderr).toContain("gb-key export | ssh HOST gb-key import");
    if (posix) {
      expect(mode(await stat(keyFile))).toBe(0o600);
      expect(mode(await stat(path.dirname(keyFile)))).toBe(0o700);
    }
  });

  it("--json prints one key event; --key-file creates missing directories", async () => {
    const env = await testEnv();
    const keyFile = path.join(await tempDir(), "a", "b", "team.key");
    const { code, stdout } = await run(["generate", "--key-file", keyFile, "--json"], env);
    expect(code).toBe(ExitCode.OK);
    const key = await readKeyFile(keyFile);
    expect(jsonLine(stdout)).toEqual({
      event: "key",
      keyFile,
      fingerprint: keyFingerprint(key),
      change: "created",
    });
    if (posix) expect(mode(await stat(path.dirname(keyFile)))).toBe(0o700);
    await expect(stat(defaultKeyFile(env))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses to replace an existing key file (5), and --force replaces it atomically", async () => {
    const env = await testEnv();
    const keyFile = defaultKeyFile(env);
    await writeKey(keyFile, VECTOR_KEY);
    const before = await readFile(keyFile);

    const refused = await run(["generate"], env);
    expect(refused.code).toBe(ExitCode.KEY);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(VECTOR.fingerprint);
    expect(refused.stderr).toMatch(/^hint: pass --force to replace it/m);
    expect(await readFile(keyFile)).toEqual(before);

    const forced = await run(["generate", "--force", "--json"], env);
    expect(forced.code).toBe(ExitCode.OK);
    const key = await readKeyFile(keyFile);
    expect(key).not.toEqual(VECTOR_KEY);
    expect(jsonLine(forced.stdout)).toMatchObject({
      fingerprint: keyFingerprint(key),
      change: "replaced",
    });
    if (posix) expect(mode(await stat(keyFile))).toBe(0o600);
    // Nothing is left beside it: the new key went through a temporary file, renamed.
    expect(await readdir(path.dirname(keyFile))).toEqual(["key"]);
  });

  it("refuses to replace a file that holds no valid key, too (5)", async () => {
    const env = await testEnv();
    const keyFile = defaultKeyFile(env);
    await mkdir(path.dirname(keyFile), { recursive: true });
    await writeFile(keyFile, "not a key\n", { mode: 0o600 });
    const { code } = await run(["generate"], env);
    expect(code).toBe(ExitCode.KEY);
    expect(await readFile(keyFile, "utf8")).toBe("not a key\n");
  });

  it("a key file that cannot be written exits 7 with a hint", async () => {
    const env = await testEnv();
    const file = path.join(await tempDir(), "file");
    await writeFile(file, "x");
    // A directory on the path is a file: no user, root included, can create the key there.
    const { code, stdout, stderr } = await run(
      ["generate", "--key-file", path.join(file, "key")],
      env,
    );
    expect(code).toBe(ExitCode.INPUT);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^hint: pass --key-file PATH with a writable location$/m);
  });

  it("warns that GB_PASSPHRASE takes precedence over the per-user key file", async () => {
    const env = await testEnv({ GB_PASSPHRASE: "correct horse" });
    const { code, stderr } = await run(["generate"], env);
    expect(code).toBe(ExitCode.OK);
    expect(stderr).toMatch(/^warning: GB_PASSPHRASE is set/m);
    expect((await readKeyFile(defaultKeyFile(env))).length).toBe(32);
    // Not when the key file is named: the programs would use it.
    const named = path.join(await tempDir(), "key");
    const explicit = await run(["generate", "--key-file", named], env);
    expect(explicit.code).toBe(ExitCode.OK);
    expect(explicit.stderr).not.toContain("warning:");
  });
});

describe("gb-key fingerprint", () => {
  it("[KEY-FINGERPRINT] prints the key file and its fingerprint; --json prints the key event", async () => {
    const env = await testEnv();
    const keyFile = defaultKeyFile(env);
    await writeKey(keyFile, VECTOR_KEY);
    const text = await run(["fingerprint"], env);
    expect(text).toEqual({
      code: ExitCode.OK,
      stdout: `key file ${keyFile}\nfingerprint ${VECTOR.fingerprint}\n`,
      stderr: "",
    });
    const json = await run(["fingerprint", "--json"], env);
    expect(jsonLine(json.stdout)).toEqual({
      event: "key",
      keyFile,
      fingerprint: VECTOR.fingerprint,
      change: "none",
    });
  });

  it("no key file exits 5 and says how to get one", async () => {
    const { code, stdout, stderr } = await run(["fingerprint"], await testEnv());
    expect(code).toBe(ExitCode.KEY);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^hint: create one with gb-key generate, or bring one .*gb-key import/m);
  });

  it("an invalid key file exits 5 and never echoes its content", async () => {
    const env = await testEnv();
    const keyFile = path.join(await tempDir(), "bad.key");
    await writeFile(keyFile, `${VECTOR.key}0\n`, { mode: 0o600 });
    const { code, stdout, stderr } = await run(["fingerprint", "--key-file", keyFile], env);
    expect(code).toBe(ExitCode.KEY);
    expect(stdout).toBe("");
    expect(stderr).not.toContain(VECTOR.key.slice(0, 16));
  });

  it.each(["fingerprint", "export"])(
    "%s refuses a key from GB_PASSPHRASE (2) but reads a named key file",
    async (subcommand) => {
      const env = await testEnv({ GB_PASSPHRASE: "correct horse" });
      await writeKey(defaultKeyFile(env), VECTOR_KEY);
      const refused = await run([subcommand], env);
      expect(refused.code).toBe(ExitCode.USAGE);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toMatch(/^error: GB_PASSPHRASE is set/m);
      expect(refused.stderr).toMatch(/^hint: .*use a key file/m);

      const named = await run([subcommand, "--key-file", defaultKeyFile(env), "--json"], env);
      expect(named.code).toBe(ExitCode.OK);
      expect(jsonLine(named.stdout)).toMatchObject({ fingerprint: VECTOR.fingerprint });
    },
  );

  it("an empty GB_PASSPHRASE is no passphrase", async () => {
    const env = await testEnv({ GB_PASSPHRASE: "" });
    await writeKey(defaultKeyFile(env), VECTOR_KEY);
    expect((await run(["fingerprint"], env)).code).toBe(ExitCode.OK);
  });
});

describe("gb-key export", () => {
  it("[KEY-TEXT] prints the key text as the only line on stdout, notes on stderr", async () => {
    const env = await testEnv();
    await writeKey(defaultKeyFile(env), VECTOR_KEY);
    const { code, stdout, stderr } = await run(["export"], env);
    expect(code).toBe(ExitCode.OK);
    expect(stdout).toBe(`${VECTOR.text}\n`);
    expect(stderr).toContain(VECTOR.fingerprint);
    expect(stderr).not.toContain(VECTOR.text);
  });

  it("--json adds the key text to the key event", async () => {
    const env = await testEnv();
    const keyFile = path.join(await tempDir(), "k");
    await writeKey(keyFile, VECTOR_KEY);
    const { code, stdout, stderr } = await run(["export", "--key-file", keyFile, "--json"], env);
    expect(code).toBe(ExitCode.OK);
    expect(stderr).toBe("");
    expect(jsonLine(stdout)).toEqual({
      event: "key",
      keyFile,
      fingerprint: VECTOR.fingerprint,
      change: "none",
      keyText: VECTOR.text,
    });
  });

  it("no key file exits 5 with nothing on stdout", async () => {
    const { code, stdout } = await run(["export"], await testEnv());
    expect(code).toBe(ExitCode.KEY);
    expect(stdout).toBe("");
  });
});

describe("gb-key import", () => {
  it("[KEY-TEXT] writes the key of a line with white space around it, mode 0600", async () => {
    const env = await testEnv();
    const { code, stdout } = await run(["import"], env, ` \t${VECTOR.text}\r\n\n`);
    expect(code).toBe(ExitCode.OK);
    const keyFile = defaultKeyFile(env);
    expect(await readKeyFile(keyFile)).toEqual(VECTOR_KEY);
    expect(stdout).toBe(
      `imported the key into new key file ${keyFile} (readable by you only)\nfingerprint ${VECTOR.fingerprint}\n`,
    );
    if (posix) {
      expect(mode(await stat(keyFile))).toBe(0o600);
      expect(mode(await stat(path.dirname(keyFile)))).toBe(0o700);
    }
  });

  it("importing the same key again, in either case, changes nothing and succeeds", async () => {
    const env = await testEnv();
    const keyFile = defaultKeyFile(env);
    await writeKey(keyFile, VECTOR_KEY);
    const before = await stat(keyFile);
    for (const text of [VECTOR.text, VECTOR.text.toLowerCase()]) {
      const { code, stdout } = await run(["import", "--json"], env, `${text}\n`);
      expect(code).toBe(ExitCode.OK);
      expect(jsonLine(stdout)).toEqual({
        event: "key",
        keyFile,
        fingerprint: VECTOR.fingerprint,
        change: "none",
      });
    }
    expect((await stat(keyFile)).mtimeMs).toBe(before.mtimeMs);
  });

  it("refuses to replace a different key without --force (5), and replaces it with --force", async () => {
    const env = await testEnv();
    const keyFile = defaultKeyFile(env);
    await writeKey(keyFile, VECTOR_KEY);
    const before = await readFile(keyFile);

    const refused = await run(["import"], env, `${OTHER.text}\n`);
    expect(refused.code).toBe(ExitCode.KEY);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(VECTOR.fingerprint);
    expect(refused.stderr).toContain(OTHER.fingerprint);
    expect(refused.stderr).toMatch(/^hint: pass --force/m);
    expect(await readFile(keyFile)).toEqual(before);

    const forced = await run(["import", "--force", "--json"], env, `${OTHER.text}\n`);
    expect(forced.code).toBe(ExitCode.OK);
    expect(jsonLine(forced.stdout)).toMatchObject({
      fingerprint: OTHER.fingerprint,
      change: "replaced",
    });
    expect((await readKeyFile(keyFile)).toString("hex")).toBe(OTHER.key);
    expect(await readdir(path.dirname(keyFile))).toEqual(["key"]);
  });

  it("refuses to replace a key file that holds no valid key without --force", async () => {
    const env = await testEnv();
    const keyFile = path.join(await tempDir(), "k");
    await writeFile(keyFile, "garbage\n", { mode: 0o600 });
    const refused = await run(["import", "--key-file", keyFile], env, `${VECTOR.text}\n`);
    expect(refused.code).toBe(ExitCode.KEY);
    expect(await readFile(keyFile, "utf8")).toBe("garbage\n");
    const forced = await run(["import", "--key-file", keyFile, "--force"], env, VECTOR.text);
    expect(forced.code).toBe(ExitCode.OK);
    expect(await readKeyFile(keyFile)).toEqual(VECTOR_KEY);
  });

  it.each([
    ["one character changed", keyTextVectors.texts.find((v) => v.problem === "checksum")!.text],
    ["a character missing", VECTOR.text.slice(0, -1)],
    ["mixed case", `${VECTOR.text.slice(0, 20)}${VECTOR.text.slice(20).toLowerCase()}`],
    ["the hex key", VECTOR.key],
    ["an age key", keyTextVectors.texts.find((v) => v.what === "an age secret key")!.text],
    ["two lines", `${VECTOR.text}\n${VECTOR.text}\n`],
    ["a space inside", `${VECTOR.text.slice(0, 30)} ${VECTOR.text.slice(30)}`],
    ["a byte-order mark", `\ufeff${VECTOR.text}\n`],
    ["a no-break space around", `\u00a0${VECTOR.text}\n`],
    ["nothing", ""],
    ["only white space", " \n\t\r\n"],
    ["over 4096 bytes", `${VECTOR.text}\n${" ".repeat(4096)}`],
    ["invalid UTF-8", Buffer.concat([Buffer.from(VECTOR.text), Buffer.from([0xff, 0x0a])])],
  ])("refuses %s (5), writes nothing and never echoes the input", async (_what, input) => {
    const env = await testEnv();
    const { code, stdout, stderr } = await run(["import"], env, input);
    expect(code).toBe(ExitCode.KEY);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^error: /m);
    expect(stderr).toMatch(/^hint: .*gb-key export/m);
    const data = VECTOR.text.slice(15, 40);
    expect(stderr.toUpperCase()).not.toContain(data);
    expect(stderr).not.toContain(VECTOR.key.slice(0, 16));
    await expect(stat(defaultKeyFile(env))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("standard input that cannot be read exits 7", async () => {
    const env = await testEnv();
    const stdin = new PassThrough();
    const running = run(["import"], env, stdin);
    stdin.write("GB-SECRET");
    stdin.destroy(Object.assign(new Error("read EIO"), { code: "EIO" }));
    const { code, stdout } = await running;
    expect(code).toBe(ExitCode.INPUT);
    expect(stdout).toBe("");
  });

  it("on a terminal, reads the first line pasted without waiting for the end of input", async () => {
    const env = await testEnv();
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const running = run(["import"], env, stdin);
    stdin.write("\n  ");
    stdin.write(VECTOR.text.slice(0, 30));
    stdin.write(`${VECTOR.text.slice(30)}\n`);
    // The stream is never ended: the line is enough.
    const { code, stderr } = await running;
    expect(code).toBe(ExitCode.OK);
    expect(stderr).toMatch(/^paste the key line/m);
    expect(await readKeyFile(defaultKeyFile(env))).toEqual(VECTOR_KEY);
  });

  it("warns that GB_PASSPHRASE takes precedence over the per-user key file", async () => {
    const env = await testEnv({ GB_PASSPHRASE: "correct horse" });
    const { code, stderr } = await run(["import"], env, VECTOR.text);
    expect(code).toBe(ExitCode.OK);
    expect(stderr).toMatch(/^warning: GB_PASSPHRASE is set/m);
  });
});

describe("gb-key export | gb-key import", () => {
  it("[KEY-TEXT] moves a generated key to another configuration: same key, same fingerprint", async () => {
    const envA = await testEnv();
    const envB = await testEnv();
    expect((await run(["generate"], envA)).code).toBe(ExitCode.OK);
    const exported = await run(["export"], envA);
    expect(exported.code).toBe(ExitCode.OK);
    const imported = await run(["import", "--json"], envB, exported.stdout);
    expect(imported.code).toBe(ExitCode.OK);
    const keyA = await readKeyFile(defaultKeyFile(envA));
    expect(await readKeyFile(defaultKeyFile(envB))).toEqual(keyA);
    expect(jsonLine(imported.stdout)).toMatchObject({ fingerprint: keyFingerprint(keyA) });
    const fingerprintB = await run(["fingerprint", "--json"], envB);
    expect(jsonLine(fingerprintB.stdout)["fingerprint"]).toBe(keyFingerprint(keyA));
    expect(exported.stdout).toBe(`${encodeKeyText(keyA)}\n`);
  });
});

describe("gb-key hints", () => {
  it("answers for every code without throwing", () => {
    for (const code of Object.values(ErrorCode)) {
      expect(isErrorCode(code)).toBe(true);
      expect(() => hintFor(errorFromPeer(code, "m", undefined), "gb-key")).not.toThrow();
    }
  });
});
