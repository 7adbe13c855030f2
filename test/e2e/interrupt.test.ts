import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, open, readdir, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CLIENT_BIN,
  ROOT,
  SAMPLE_TEXT,
  WAIT_MS,
  freshEnv,
  startSavingServer,
  tempDir,
  trackSocket,
  unusedPort,
  waitUntil,
  withTimeout,
} from "./harness.js";
import { CTRL_C, startOnPty } from "./pty.js";
import { startThrottledRelay } from "./throttled-relay.js";

const INTERRUPTED = 130;
/**
 * The client stops within a second of Ctrl-C; the bound adds what a loaded machine needs
 * to deliver the signal and reap the process. A lost Ctrl-C fails it by far: the
 * transfer through the throttled relay would take minutes.
 */
const STOPS_WITHIN_MS = 2000;
/** Sent through the throttled relay: far more than the test lasts. */
const BIG_FILE_BYTES = 512 * 1024 * 1024;

/** A sparse file of `bytes` zero bytes, made at once. */
async function bigFile(bytes: number): Promise<string> {
  const file = path.join(await tempDir("gb-e2e-big-"), "big.bin");
  const handle = await open(file, "w");
  await handle.truncate(bytes);
  await handle.close();
  return file;
}

/**
 * A saving server (--json), and gb-client on a pseudo-terminal sending it `file` (by
 * default a big file) through a throttled relay, so that the transfer is still running
 * when a test acts. The file is sent whole (--no-resume): an item that does not resume
 * leaves nothing behind; one that does keeps its partial on purpose ([RES-FAIL],
 * test/e2e/resume.test.ts).
 */
async function startSlowTransfer(given?: string) {
  const { env, saveDir, server } = await startSavingServer(["--json"]);
  const relayPort = await startThrottledRelay(server.port);
  const file = given ?? (await bigFile(BIG_FILE_BYTES));
  const client = startOnPty(
    process.execPath,
    [CLIENT_BIN, "--port", String(relayPort), "--file", file, "--no-resume"],
    { env, cwd: await tempDir("gb-e2e-cwd-") },
  );
  return { env, saveDir, server, client };
}

/**
 * Runs `test` against a server that accepts connections and never answers, so that a
 * client stays in its opening; `accepted` lists the connections so far.
 */
async function withSilentServer(
  test: (port: number, accepted: readonly Socket[]) => Promise<void>,
): Promise<void> {
  const accepted: Socket[] = [];
  const silent = createServer((socket) => {
    accepted.push(trackSocket(socket));
  });
  silent.listen(0, "127.0.0.1");
  await withTimeout(once(silent, "listening"), WAIT_MS, "the silent server");
  try {
    await test((silent.address() as AddressInfo).port, accepted);
  } finally {
    silent.close();
  }
}

describe("[CLI-INTERRUPT] Ctrl-C on a terminal", () => {
  it("[CLI-INTERRUPT] stops gb-client mid-transfer with 130; the server keeps no file and no .part", async () => {
    const { saveDir, server, client } = await startSlowTransfer();
    // The progress line is on the terminal (ora runs), and the server is writing the item.
    await client.output.waitFor(
      (out) => (out.text.includes("sending") ? true : undefined),
      "progress",
    );
    await waitUntil(
      async () => (await readdir(saveDir)).some((name) => name.endsWith(".part")),
      "the server's temporary file",
    );

    const typedAt = client.type(CTRL_C);
    const exit = await client.exit();
    expect(exit.code, client.output.text).toBe(INTERRUPTED);
    expect(exit.at - typedAt).toBeLessThan(STOPS_WITHIN_MS);
    expect(client.output.text).toMatch(/error: interrupted/);

    const failure = await server.waitForEvent((event) => event["event"] === "failure", "failure");
    expect(failure["code"]).toBe("TRUNCATED");
    await waitUntil(async () => (await readdir(saveDir)).length === 0, "an empty save directory");
  });

  it("[CLI-INTERRUPT] stops gb-client mid-tree with 130; the server keeps no .part", async () => {
    // A tree whose one large file takes minutes through the relay, after a small one.
    const top = path.join(await tempDir("gb-e2e-tree-"), "tree");
    await mkdir(top);
    await writeFile(path.join(top, "a-small.txt"), SAMPLE_TEXT);
    const big = await open(path.join(top, "b-big.bin"), "w");
    await big.truncate(BIG_FILE_BYTES);
    await big.close();
    const { saveDir, server, client } = await startSlowTransfer(top);
    await client.output.waitFor(
      (out) => (out.text.includes("sending") ? true : undefined),
      "progress",
    );
    const parts = async (): Promise<string[]> =>
      (await readdir(saveDir, { recursive: true })).filter((name) => name.endsWith(".part"));
    await waitUntil(async () => (await parts()).length > 0, "the server's temporary file");

    const typedAt = client.type(CTRL_C);
    const exit = await client.exit();
    expect(exit.code, client.output.text).toBe(INTERRUPTED);
    expect(exit.at - typedAt).toBeLessThan(STOPS_WITHIN_MS);
    expect(client.output.text).toMatch(/error: interrupted/);
    await server.waitForEvent((event) => event["event"] === "failure", "failure");
    await waitUntil(async () => (await parts()).length === 0, "no temporary file");
  });

  it("[CLI-INTERRUPT] stops gb-client while it waits for the server's greeting", async () => {
    await withSilentServer(async (port, accepted) => {
      const env = { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: await tempDir() };
      const client = startOnPty(
        process.execPath,
        [CLIENT_BIN, "--port", String(port), "--file", SAMPLE_TEXT],
        { env, cwd: await tempDir("gb-e2e-cwd-") },
      );
      await waitUntil(() => accepted.length > 0, "the client's connection");
      const typedAt = client.type(CTRL_C);
      const exit = await client.exit();
      expect(exit.code, client.output.text).toBe(INTERRUPTED);
      expect(exit.at - typedAt).toBeLessThan(STOPS_WITHIN_MS);
      expect(client.output.text).toMatch(/error: interrupted/);
    });
  });
});

describe("[CLI-INTERRUPT] gb-server interrupted twice", () => {
  it("[CLI-INTERRUPT] a second Ctrl-C drops the item in flight and leaves no .part file; exit 130", async () => {
    const { saveDir, server, client } = await startSlowTransfer();
    await waitUntil(
      async () => (await readdir(saveDir)).some((name) => name.endsWith(".part")),
      "the server's temporary file",
    );
    server.child.kill("SIGINT");
    await server.stderr.waitFor(
      (err) => (err.text.includes("shutting down") ? true : undefined),
      "the server to start shutting down",
    );
    server.child.kill("SIGINT");
    const exit = await withTimeout(server.exited, WAIT_MS, "gb-server to exit");
    expect(exit.code, server.stderr.text).toBe(INTERRUPTED);
    expect(await readdir(saveDir)).toEqual([]);
    // The client lost its connection mid-item.
    expect((await client.exit()).code).toBe(3);
  });
});

describe("[CLI-INTERRUPT] exit codes under npx", () => {
  /** npx from the package directory, as the README says to run the programs. */
  async function npxEnv(): Promise<NodeJS.ProcessEnv> {
    const env = await freshEnv({ npm_config_offline: "true", npm_config_update_notifier: "false" });
    return env;
  }

  it("[CLI-INTERRUPT] a failing run keeps its exit code (3: nothing listens)", async () => {
    const result = await runProgramIn(
      ROOT,
      "npx",
      ["gb-client", "--port", String(await unusedPort()), "--file", SAMPLE_TEXT],
      await npxEnv(),
    );
    expect(result.code, result.output).toBe(3);
    expect(result.output).toMatch(/^error: cannot connect/m);
  });

  it("[CLI-INTERRUPT] Ctrl-C exits 130 as the shell sees it", async () => {
    await withSilentServer(async (port, accepted) => {
      const client = startOnPty(
        "npx",
        ["gb-client", "--port", String(port), "--file", SAMPLE_TEXT],
        // npm re-raises the signal its child got (npm exec runs it under sh, which dies of
        // the SIGINT it also got): what a user sees is the shell's $?.
        { env: await npxEnv(), cwd: ROOT, statusAs: "shell" },
      );
      await waitUntil(() => accepted.length > 0, "the client's connection");
      client.type(CTRL_C);
      const exit = await client.exit();
      expect(exit.code, client.output.text).toBe(INTERRUPTED);
      expect(client.output.text).toMatch(/error: interrupted/);
    });
  });
});

/** Runs `command` in `cwd` to its end (bounded); stdout and stderr together. */
async function runProgramIn(
  cwd: string,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await withTimeout(
    once(child, "close"),
    WAIT_MS,
    `${command} ${args.join(" ")}`,
  )) as [number | null];
  return { code, output };
}
