/**
 * The real programs on two test hosts (test/support/netns.ts): gb-server in one network
 * namespace, gb-client in the other, and a man in the middle (test/support/mitm-relay.ts,
 * bundled once per test file) on the path. Every child is tracked and killed, and the
 * namespaces removed, by {@link NetnsLab.dispose}, which the test file calls in afterEach.
 */
import type { ChildProcess } from "node:child_process";
import { chmod, copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import { NetnsPair, type NetnsHost } from "../support/netns.js";
import { Output } from "../support/output.js";
import { CLIENT_BIN, ROOT, SERVER_BIN, WAIT_MS, withTimeout } from "./harness.js";

export const KEY_BIN = path.join(ROOT, "bin", "gb-key.cjs");
const MITM_SOURCE = path.join(ROOT, "test", "support", "mitm-relay.ts");
/** How long a child gets after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 2_000;

/** Bundles the relay into `dir` (node cannot run TypeScript itself); returns the file. */
export async function bundleMitmRelay(dir: string): Promise<string> {
  const outfile = path.join(dir, "mitm-relay.mjs");
  await build({
    entryPoints: [MITM_SOURCE],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    logLevel: "warning",
  });
  return outfile;
}

/** A child running in a namespace, with its output collected. */
export interface Running {
  readonly child: ChildProcess;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Resolves with the exit code once the child exited and its streams closed. */
  readonly exited: Promise<number | null>;
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface LabServer extends Running {
  readonly port: number;
  /** The server's JSON events so far (it runs with --json). */
  events(kind?: string): Record<string, unknown>[];
  /** Waits for a JSON event matching `match`. */
  waitForEvent(
    match: (event: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
}

/** A running man in the middle. */
export interface LabRelay {
  readonly port: number;
  /** Waits until `connections` relayed connections have ended, both ways. */
  waitClosed(connections: number): Promise<void>;
}

/** Two namespaces and what runs in them, for one test. */
export class NetnsLab {
  readonly pair: NetnsPair;
  readonly #children = new Set<ChildProcess>();

  private constructor(pair: NetnsPair) {
    this.pair = pair;
  }

  /** Makes the namespaces. @throws when they cannot be made (the caller fails the test). */
  static create(): NetnsLab {
    return new NetnsLab(NetnsPair.create());
  }

  get server(): NetnsHost {
    return this.pair.server;
  }

  get client(): NetnsHost {
    return this.pair.client;
  }

  /** Starts `args` (a script and its arguments) with node inside `host`. */
  spawn(
    host: NetnsHost,
    args: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd?: string; stdin?: "pipe" | "ignore" },
  ): Running {
    const child = this.pair.spawnIn(host, process.execPath, args, {
      env: options.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
    });
    this.#children.add(child);
    child.stdin?.on("error", () => undefined);
    const exited = new Promise<number | null>((resolve) => {
      child.once("close", (code) => {
        this.#children.delete(child);
        resolve(code);
      });
    });
    return {
      child,
      stdout: new Output(child.stdout, WAIT_MS),
      stderr: new Output(child.stderr, WAIT_MS),
      exited,
    };
  }

  /** Runs node `args` in `host` to its end (bounded), feeding `input` when given. */
  async run(
    host: NetnsHost,
    args: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd?: string; input?: Buffer | string },
  ): Promise<Finished> {
    const running = this.spawn(host, args, {
      ...options,
      stdin: options.input === undefined ? "ignore" : "pipe",
    });
    if (options.input !== undefined) running.child.stdin?.end(options.input);
    const code = await withTimeout(
      running.exited,
      WAIT_MS,
      `${args.join(" ")} in ${host.namespace}\nstdout:\n${running.stdout.text}\nstderr:\n${running.stderr.text}`,
    );
    return { code, stdout: running.stdout.text, stderr: running.stderr.text };
  }

  /** Runs gb-client in the client's namespace. */
  runClient(
    args: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd?: string; input?: Buffer | string },
  ): Promise<Finished> {
    return this.run(this.client, [CLIENT_BIN, ...args], options);
  }

  /**
   * Starts gb-server in the server's namespace with --json, --port 0 and `args` (which
   * give --host), and waits for its `listening` event.
   */
  async startServer(
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    cwd?: string,
  ): Promise<LabServer> {
    const running = this.spawn(this.server, [SERVER_BIN, "--json", "--port", "0", ...args], {
      env,
      ...(cwd === undefined ? {} : { cwd }),
    });
    const listening = await Promise.race([
      running.stdout.waitFor(
        (out) => out.json.find((event) => event["event"] === "listening"),
        "gb-server's listening event",
      ),
      running.exited.then((code) => {
        throw new Error(
          `gb-server exited (${String(code)}) before listening:\n${running.stderr.text}`,
        );
      }),
    ]);
    const events = (kind?: string): Record<string, unknown>[] =>
      running.stdout.json.filter((event) => kind === undefined || event["event"] === kind);
    return {
      ...running,
      port: Number(listening["port"]),
      events,
      waitForEvent: (match, what) =>
        running.stdout.waitFor((out) => out.json.find(match), `gb-server event: ${what}`),
    };
  }

  /**
   * Starts the man in the middle in the server's namespace with `plan` (listening on
   * the address the client uses, relaying to the server); see mitm-relay.ts.
   */
  async startRelay(relayScript: string, plan: Record<string, unknown>): Promise<LabRelay> {
    const running = this.spawn(
      this.server,
      [relayScript, JSON.stringify({ mode: "relay", ...plan })],
      { env: process.env },
    );
    const listening = await Promise.race([
      running.stdout.waitFor(
        (out) => out.json.find((event) => event["event"] === "listening"),
        "the relay's listening event",
      ),
      running.exited.then((code) => {
        throw new Error(`the relay exited (${String(code)}):\n${running.stderr.text}`);
      }),
    ]);
    return {
      port: Number(listening["port"]),
      waitClosed: async (connections) => {
        await running.stdout.waitFor(
          (out) =>
            out.json.filter((event) => event["event"] === "closed").length >= connections
              ? true
              : undefined,
          `${String(connections)} relayed connection(s) to end`,
        );
      },
    };
  }

  /** Replays the client stream in `input` from the client's namespace to `target`. */
  async replay(
    relayScript: string,
    target: { host: string; port: number },
    input: string,
    output: string,
  ): Promise<void> {
    const result = await this.run(
      this.client,
      [relayScript, JSON.stringify({ mode: "replay", target, input, output })],
      { env: process.env },
    );
    if (result.code !== 0) throw new Error(`the replay failed:\n${result.stderr}`);
  }

  /** Kills every child still running (SIGTERM, then SIGKILL), then removes the namespaces. */
  async dispose(): Promise<void> {
    await Promise.all([...this.#children].map((child) => terminate(child)));
    this.#children.clear();
    this.pair.remove();
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
  try {
    await withTimeout(exited, 2 * KILL_GRACE_MS, `pid ${String(child.pid)} to exit`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Gives another machine's user the key in `fromConfig` (an XDG_CONFIG_HOME): a copy at
 * the default place under `toConfig`, mode 0600 in a 0700 directory, as `gb-key import`
 * would leave it.
 */
export async function copyDefaultKey(fromConfig: string, toConfig: string): Promise<void> {
  const directory = path.join(toConfig, "gb-transfer");
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const key = path.join(directory, "key");
  await copyFile(path.join(fromConfig, "gb-transfer", "key"), key);
  await chmod(key, 0o600);
}
