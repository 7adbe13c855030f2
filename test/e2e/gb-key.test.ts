import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Output } from "../support/output.js";
import {
  ROOT,
  SAMPLE_TEXT,
  WAIT_MS,
  freshEnv,
  jsonLines,
  runClient,
  startServer,
  withTimeout,
} from "./harness.js";

const KEY_BIN = path.join(ROOT, "bin", "gb-key.cjs");

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts gb-key; its stdin is a pipe the test writes to, or ignored. Its stdout is read unless `pipedOn`. */
function startKey(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { stdin?: "pipe" | "ignore"; pipedOn?: boolean } = {},
): { child: ChildProcess; finished: Promise<Finished> } {
  const child = spawn(process.execPath, [KEY_BIN, ...args], {
    env,
    stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
  });
  child.stdin?.on("error", () => undefined); // it may exit without reading it all
  const stdout = new Output(options.pipedOn === true ? null : child.stdout, WAIT_MS);
  const stderr = new Output(child.stderr, WAIT_MS);
  const finished = withTimeout(
    new Promise<Finished>((resolve) => {
      child.once("close", (code) => {
        resolve({ code, stdout: stdout.text, stderr: stderr.text });
      });
    }),
    WAIT_MS,
    `gb-key ${args.join(" ")}`,
  ).finally(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, finished };
}

function runKey(args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return startKey(args, env).finished;
}

describe("gb-key, the built program", () => {
  it("[KEY-TEXT] gb-key export | gb-key import between two configurations gives the same fingerprint", async () => {
    const machineA = await freshEnv();
    const machineB = await freshEnv();
    const generated = await runKey(["generate", "--json"], machineA);
    expect(generated.code).toBe(0);
    const [created] = jsonLines(generated.stdout);
    expect(created).toMatchObject({ event: "key", change: "created" });

    // One program's stdout into the other's stdin, as in `gb-key export | ssh B gb-key import`.
    const exporter = startKey(["export"], machineA, { pipedOn: true });
    const importer = startKey(["import", "--json"], machineB, { stdin: "pipe" });
    exporter.child.stdout!.pipe(importer.child.stdin!);
    const [exported, imported] = await Promise.all([exporter.finished, importer.finished]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain(String(created!["fingerprint"]));
    expect(imported.code).toBe(0);
    expect(jsonLines(imported.stdout)).toEqual([
      {
        event: "key",
        keyFile: path.join(machineB["XDG_CONFIG_HOME"]!, "gb-transfer", "key"),
        fingerprint: created!["fingerprint"],
        change: "created",
      },
    ]);

    const onB = await runKey(["fingerprint"], machineB);
    expect(onB.code).toBe(0);
    expect(onB.stdout).toContain(`fingerprint ${String(created!["fingerprint"])}\n`);

    // The moved key is the key: a client on B encrypts to a server on A.
    const server = await startServer(["--json", "--no-save"], { env: machineA });
    const client = await runClient(
      ["--port", String(server.port), "--encrypt", "--json", "--file", SAMPLE_TEXT],
      { env: machineB },
    );
    expect(client.code).toBe(0);
    const events = jsonLines(client.stdout);
    expect(events.find((e) => e["event"] === "stored")).toMatchObject({ encrypted: true });
  });

  it("--help exits 0; a key text with a typo exits 5 and writes nothing", async () => {
    const env = await freshEnv();
    const help = await runKey(["--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes:");

    const typo = "GB-SECRET-KEY-1QQQSYQCYQ5RQWZQQPG9SCRGWPUGPZYSNZS23V9CCRYDPK8QARC0SJPD7KU";
    const importer = startKey(["import"], env, { stdin: "pipe" });
    importer.child.stdin!.end(`${typo}\n`);
    const refused = await importer.finished;
    expect(refused.code).toBe(5);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^error: standard input: /m);
    expect((await runKey(["fingerprint"], env)).code).toBe(5);
  });
});
