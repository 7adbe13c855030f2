import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { runServer } from "../../src/cli/server-command.js";
import { exists } from "../support/exists.js";
import { SAMPLE_DICT as DATA, SAMPLE_TEXT as NOTES } from "../support/samples.js";
import { fakeIo, tempDir, testEnv, WAIT_MS, withTimeout } from "./fake-io.js";
import { cleanUp, listenSaving } from "./saving-server.js";

afterEach(cleanUp);

async function client(argv: string[], input: string | Buffer = "") {
  const fake = fakeIo(await testEnv(), input);
  const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, `runClient ${argv.join(" ")}`);
  return { code, stdout: fake.stdout.text, stderr: fake.stderr.text };
}

/** Runs gb-server for a start that is expected to fail (it returns by itself). */
async function serverStart(argv: string[], env?: NodeJS.ProcessEnv) {
  const fake = fakeIo(env ?? (await testEnv()));
  const code = await withTimeout(
    runServer(["--host", "127.0.0.1", "--port", "0", ...argv], fake.io, AbortSignal.abort()),
    WAIT_MS,
    `runServer ${argv.join(" ")}`,
  );
  return { code, stdout: fake.stdout.text, stderr: fake.stderr.text };
}

describe("[CLI-OPTIONS] gb-client sends every item it is given", () => {
  it("[CLI-OPTIONS] --dict given twice sends both dictionaries, in order, before the files", async () => {
    const { server, saveDir } = await listenSaving();
    const other = path.join(await tempDir(), "other.json");
    await writeFile(other, '{"second": true}');
    const names: string[] = [];
    server.on("item", (item) => names.push(item.name));
    const { code, stdout } = await client([
      "--port",
      String(server.address().port),
      "--json",
      "--dict",
      DATA,
      "--file",
      NOTES,
      "--dict",
      other,
    ]);
    expect(code).toBe(ExitCode.OK);
    expect(names).toEqual(["data.json", "other.json", "notes.txt"]);
    expect(stdout.match(/"event":"stored"/g)).toHaveLength(3);
    expect(JSON.parse(await readFile(path.join(saveDir, "other.json"), "utf8"))).toEqual({
      second: true,
    });
  });

  it("[CLI-OPTIONS] --name names a file read from standard input", async () => {
    const { server, saveDir } = await listenSaving();
    const { code } = await client(
      ["--port", String(server.address().port), "--file", "-", "--name", "from-pipe.txt"],
      "piped\n",
    );
    expect(code).toBe(ExitCode.OK);
    expect(await readFile(path.join(saveDir, "from-pipe.txt"), "utf8")).toBe("piped\n");
  });

  it("[CLI-OPTIONS] --name names a dictionary read from standard input", async () => {
    const { server } = await listenSaving();
    const names: string[] = [];
    server.on("item", (item) => names.push(item.name));
    const { code } = await client(
      ["--port", String(server.address().port), "--dict", "-", "--name", "piped.json"],
      '{"a": 1}',
    );
    expect(code).toBe(ExitCode.OK);
    expect(names).toEqual(["piped.json"]);
  });
});

describe("[CLI-OPTIONS] gb-server refuses options it would drop", () => {
  it("[CLI-OPTIONS] --no-save with --save-dir is a usage error", async () => {
    const saveDir = path.join(await tempDir(), "never");
    const { code, stderr } = await serverStart(["--no-save", "--save-dir", saveDir]);
    expect(code).toBe(ExitCode.USAGE);
    expect(stderr).toMatch(/^error: --no-save and --save-dir contradict each other\nhint: /);
    expect(await exists(saveDir)).toBe(false);
  });

  it("[CLI-OPTIONS] --create-key without --key-file is a usage error", async () => {
    expect((await serverStart(["--create-key"])).code).toBe(ExitCode.USAGE);
  });
});

describe("[CLI-SAVE-DIR] gb-server checks its save directory before it starts", () => {
  it("[CLI-SAVE-DIR] a --save-dir that is a file: exit 7, saying so", async () => {
    const file = path.join(await tempDir(), "a-file");
    await writeFile(file, "not a directory");
    const { code, stdout, stderr } = await serverStart(["--save-dir", file]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stdout).toBe("");
    expect(stderr).toBe(`error: the save directory ${file} is a file, not a directory\n`);
  });

  it("[CLI-SAVE-DIR] a --save-dir that cannot be created: exit 7", async () => {
    const file = path.join(await tempDir(), "a-file");
    await writeFile(file, "");
    const { code, stderr } = await serverStart(["--save-dir", path.join(file, "inbox")]);
    expect(code).toBe(ExitCode.INPUT);
    expect(stderr).toMatch(/^error: cannot create the save directory .*inbox: ENOTDIR/);
  });

  it.skipIf(process.getuid?.() === 0)(
    "[CLI-SAVE-DIR] a --save-dir that cannot be written: exit 7 (not as root, who can write anywhere)",
    async () => {
      const dir = path.join(await tempDir(), "read-only");
      await mkdir(dir, { mode: 0o555 });
      const { code, stderr } = await serverStart(["--save-dir", dir]);
      expect(code).toBe(ExitCode.INPUT);
      expect(stderr).toMatch(/^error: cannot create and write a file in the save directory/);
    },
  );

  it("[CLI-SAVE-DIR] the probe leaves nothing in the save directory", async () => {
    const saveDir = path.join(await tempDir(), "inbox");
    const fake = fakeIo(await testEnv());
    const controller = new AbortController();
    const done = runServer(
      ["--host", "127.0.0.1", "--port", "0", "--json", "--save-dir", saveDir],
      fake.io,
      controller.signal,
    );
    await fake.stdout.waitFor(
      (out) => out.json.find((event) => event["event"] === "listening"),
      "listening",
    );
    controller.abort();
    expect(await withTimeout(done, WAIT_MS, "stop")).toBe(ExitCode.OK);
    expect(await readdir(saveDir)).toEqual([]);
  });
});

describe("[CLI-KEY-FILE] gb-server --key-file", () => {
  it("[CLI-KEY-FILE] a --key-file that does not exist: exit 5 with the gb-key hint; nothing created", async () => {
    const keyFile = path.join(await tempDir(), "typo-key");
    const { code, stderr } = await serverStart(["--no-save", "--key-file", keyFile]);
    expect(code).toBe(ExitCode.KEY);
    expect(stderr).toBe(
      `error: no key file at ${keyFile}\n` +
        `hint: create one with gb-key generate --key-file ${keyFile}, copy it from the client's machine, or pass --create-key\n`,
    );
    expect(await exists(keyFile)).toBe(false);
  });

  it("[CLI-KEY-FILE] --create-key creates it; the default key file is created without it", async () => {
    const keyFile = path.join(await tempDir(), "new-key");
    const env = await testEnv();
    const fake = fakeIo(env);
    const controller = new AbortController();
    const done = runServer(
      [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--json",
        "--no-save",
        "--key-file",
        keyFile,
        "--create-key",
      ],
      fake.io,
      controller.signal,
    );
    await fake.stdout.waitFor(
      (out) => out.json.find((event) => event["event"] === "listening"),
      "listening",
    );
    controller.abort();
    expect(await withTimeout(done, WAIT_MS, "stop")).toBe(ExitCode.OK);
    expect(await exists(keyFile)).toBe(true);
    expect(fake.stderr.text).toContain(`created a new key file at ${keyFile}`);
  });
});
