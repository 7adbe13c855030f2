import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { runServer } from "../../src/cli/server-command.js";
import { exists } from "../support/exists.js";
import { SAMPLE_DICT as DATA, SAMPLE_TEXT as NOTES } from "../support/samples.js";
import { fakeIo, removeTempDirs, tempDir, testEnv, withTimeout, WAIT_MS } from "./fake-io.js";
import {
  startInProcessServer,
  stopInProcessServers,
  trackInProcessServer,
  type InProcessServer,
} from "./in-process-server.js";

const holders: Server[] = [];

afterEach(async () => {
  await stopInProcessServers();
  await Promise.all(
    holders.splice(0).map((holder) => new Promise((resolve) => holder.close(resolve))),
  );
  await removeTempDirs();
});

/** runServer with --host 127.0.0.1 --port 0 --json; resolves once it listens. */
async function startInProcess(extra: string[], env: NodeJS.ProcessEnv): Promise<InProcessServer> {
  return startInProcessServer(["--host", "127.0.0.1", "--port", "0", "--json", ...extra], env);
}

async function runServerToEnd(argv: string[], env?: NodeJS.ProcessEnv) {
  const fake = fakeIo(env ?? (await testEnv()));
  const controller = new AbortController();
  const done = runServer(argv, fake.io, controller.signal);
  trackInProcessServer(controller, done);
  const code = await withTimeout(done, WAIT_MS, `runServer ${argv.join(" ")}`);
  return { code, stdout: fake.stdout.text, stderr: fake.stderr.text, env: fake.io.env };
}

describe("runServer --help / --version / usage", () => {
  it("--help shows options and examples on stdout and returns 0 without starting", async () => {
    const { code, stdout, stderr, env } = await runServerToEnd(["--help"]);
    expect(code).toBe(ExitCode.OK);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^Usage: gb-server \[options\]/);
    for (const option of [
      "--host <address>",
      "--port <number>",
      "--no-print",
      "--save-dir <dir>",
      "--no-save",
      "--json",
      "--key-file <path>",
      "--require-encryption",
      "--max-connections <n>",
    ]) {
      expect(stdout).toContain(option);
    }
    expect(stdout).toContain("Examples:");
    expect(stdout).toContain("Exit codes: 0 stopped by Ctrl-C/SIGTERM");
    expect(await readdir(env["XDG_CONFIG_HOME"]!)).toEqual([]);
  });

  it("--version prints gb-server 2.0.0", async () => {
    const { code, stdout } = await runServerToEnd(["--version"]);
    expect(code).toBe(ExitCode.OK);
    expect(stdout).toBe("gb-server 2.0.0\n");
  });

  it.each([
    [["--port", "abc"], /argument 'abc' is invalid\. expected a port number from 0 to 65535\./],
    [["--port", "65536"], /expected a port number from 0 to 65535/],
    [["--port", "0", "--max-connections", "0"], /expected a positive whole number/],
    [["--port", "0", "--max-connections", "1.5"], /expected a positive whole number/],
    [["--port", "0", "--bogus"], /unknown option '--bogus'/],
    [["--port", "0", "--save-dir"], /argument missing/],
  ])("%j returns 2", async (argv, message) => {
    const { code, stdout, stderr, env } = await runServerToEnd(["--host", "127.0.0.1", ...argv]);
    expect(code).toBe(ExitCode.USAGE);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^error: /);
    expect(stderr).toMatch(message);
    expect(stderr).toContain("hint: run gb-server --help for usage");
    expect(await readdir(env["XDG_CONFIG_HOME"]!)).toEqual([]);
  });
});

describe("runServer in-process", () => {
  it("listens, reports items as JSON events, and resolves 0 when aborted", async () => {
    const env = await testEnv();
    const saveDir = await tempDir("gb-cli-save-");
    const server = await startInProcess(["--save-dir", saveDir], env);
    const keyFile = path.join(env["XDG_CONFIG_HOME"]!, "gb-transfer", "key");
    expect(server.listening).toEqual({
      event: "listening",
      host: "127.0.0.1",
      port: server.port,
      saveDir,
      keyFile,
      plaintext: "loopback",
    });
    expect(server.port).toBeGreaterThan(0);
    expect(server.fake.stderr.text).toContain(`created a new key file at ${keyFile}`);
    expect(server.fake.stderr.text).toContain(`gb-server listening on 127.0.0.1:${server.port}`);
    expect(await exists(keyFile)).toBe(true);

    // An in-process client against it, encrypted, using the key file the server created.
    const client = fakeIo(env);
    const code = await withTimeout(
      runClient(
        ["--port", String(server.port), "--json", "--encrypt", "--dict", DATA, "--file", NOTES],
        client.io,
      ),
      WAIT_MS,
      "runClient",
    );
    expect(client.stderr.text).toBe("");
    expect(code).toBe(ExitCode.OK);
    const [session, ...stored] = client.stdout.json;
    expect(session).toEqual({
      event: "session",
      encrypted: true,
      fingerprint: expect.stringMatching(/^[0-9a-f]{4}(-[0-9a-f]{4}){3}$/),
    });
    expect(stored.map((r) => [r["event"], r["id"], r["savedAs"], r["encrypted"]])).toEqual([
      ["stored", 1, "data.json", true],
      ["stored", 2, "notes.txt", true],
    ]);

    const item = await server.fake.stdout.waitFor(
      (out) => out.json.find((e) => e["event"] === "item" && e["id"] === 2),
      "item 2",
    );
    expect(item).toMatchObject({ kind: "file", name: "notes.txt", encrypted: true, bytes: 319 });
    // [H-FINGERPRINT] the server reports the session the client showed.
    expect(item["session"]).toEqual({ encrypted: true, fingerprint: session!["fingerprint"] });
    const dictEvent = server.fake.stdout.json.find((e) => e["id"] === 1)!;
    expect(dictEvent["value"]).toEqual(JSON.parse(await readFile(DATA, "utf8")));

    server.controller.abort();
    expect(await withTimeout(server.done, WAIT_MS, "server stop")).toBe(ExitCode.OK);
    expect(server.fake.stderr.text).toContain("shutting down");
    expect((await readdir(saveDir)).sort()).toEqual(["data.json", "notes.txt"]);
  });

  it("prints items for people when --json is not given", async () => {
    const env = await testEnv();
    const fake = fakeIo(env);
    const controller = new AbortController();
    const done = runServer(
      ["--host", "127.0.0.1", "--port", "0", "--no-save"],
      fake.io,
      controller.signal,
    );
    trackInProcessServer(controller, done);
    const port = await fake.stderr.waitFor((err) => {
      const match = /gb-server listening on 127\.0\.0\.1:(\d+) · not saving · printing/.exec(
        err.text,
      );
      return match === null ? undefined : Number(match[1]);
    }, "the listening line");

    const client = fakeIo(env);
    expect(await runClient(["--port", String(port), "--file", NOTES], client.io)).toBe(ExitCode.OK);
    expect(client.stdout.text).toMatch(
      /^✔ file notes\.txt received \(not saved\) · 319 B in [\d.]+ m?s \([^)]+\/s\) · sha256 [0-9a-f]{64}\n$/,
    );
    await fake.stdout.waitFor(
      (out) => (out.text.includes("Receipts carry") ? true : undefined),
      "the text",
    );
    expect(fake.stdout.text).toMatch(
      /^── file notes\.txt \(319 B\) from 127\.0\.0\.1:\d+ · not saved\nNotes on the Analytical Engine\n/,
    );

    controller.abort();
    expect(await withTimeout(done, WAIT_MS, "server stop")).toBe(ExitCode.OK);
  });

  it("an already-aborted signal starts, stops at once and resolves 0", async () => {
    const env = await testEnv();
    const fake = fakeIo(env);
    const controller = new AbortController();
    controller.abort();
    const done = runServer(
      ["--host", "127.0.0.1", "--port", "0", "--json", "--no-save"],
      fake.io,
      controller.signal,
    );
    trackInProcessServer(controller, done);
    expect(await withTimeout(done, WAIT_MS, "server stop")).toBe(ExitCode.OK);
    expect(fake.stdout.json[0]).toMatchObject({ event: "listening" });
  });

  it("a key file that is too open returns 5 before listening", async () => {
    const env = await testEnv();
    const keys = await tempDir("gb-cli-keys-");
    const keyFile = path.join(keys, "open.key");
    await writeFile(keyFile, `# gb-transfer key v1 - keep this file secret\n${"ab".repeat(32)}\n`);
    await chmod(keyFile, 0o644);
    const { code, stdout, stderr } = await runServerToEnd(
      ["--host", "127.0.0.1", "--port", "0", "--json", "--no-save", "--key-file", keyFile],
      env,
    );
    expect(code).toBe(ExitCode.KEY);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^error: cannot load the key: permissions 0644 for key file /);
  });

  it("a malformed default key file returns 5 and is not replaced", async () => {
    const env = await testEnv();
    const dir = path.join(env["XDG_CONFIG_HOME"]!, "gb-transfer");
    await mkdir(dir, { recursive: true });
    const keyFile = path.join(dir, "key");
    await writeFile(keyFile, "garbage\n", { mode: 0o600 });
    const { code, stderr } = await runServerToEnd(
      ["--host", "127.0.0.1", "--port", "0", "--no-save"],
      env,
    );
    expect(code).toBe(ExitCode.KEY);
    expect(stderr).toMatch(/is malformed/);
    expect(await readFile(keyFile, "utf8")).toBe("garbage\n");
  });

  it("a port already in use returns 3 (cannot listen)", async () => {
    // The only test not on port 0: it needs a port that is certainly taken, by us.
    const holder = createServer();
    holders.push(holder);
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const address = holder.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const { code, stdout, stderr } = await runServerToEnd([
      "--host",
      "127.0.0.1",
      "--port",
      String(address.port),
      "--no-save",
    ]);
    expect(code).toBe(ExitCode.NETWORK);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^error: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/m);
    expect(stderr).toMatch(/^hint: another program is using port \d+/m);
  });
});
