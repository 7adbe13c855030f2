/** In-memory {@link CommandIo} for running the CLI commands in-process. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import type { CommandIo } from "../../src/cli/terminal.js";

/** Bound for every wait in these tests. */
export const WAIT_MS = 10_000;

export class Captured {
  readonly #chunks: Buffer[] = [];
  readonly #listeners = new Set<() => void>();

  constructor(stream: PassThrough) {
    stream.on("data", (chunk: Buffer | string) => {
      this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      for (const listener of [...this.#listeners]) listener();
    });
  }

  get buffer(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  get text(): string {
    return this.buffer.toString("utf8");
  }

  /** Every complete `{...}` line, parsed. */
  get json(): Record<string, unknown>[] {
    return this.text
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
  }

  /** Resolves with the first non-undefined result of `probe`; rejects after `ms`. */
  waitFor<T>(probe: (captured: this) => T | undefined, what: string, ms = WAIT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; so far:\n${this.text}`));
      }, ms);
      const check = (): void => {
        const result = probe(this);
        if (result === undefined) return;
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(result);
      };
      this.#listeners.add(check);
      check();
    });
  }
}

export interface FakeIo {
  readonly io: CommandIo;
  readonly stdout: Captured;
  readonly stderr: Captured;
  readonly stdin: PassThrough;
}

/**
 * Streams for one command run. stdin is ended at once (with `input` when given) unless
 * `input` is null, in which case the test writes to it itself.
 */
export function fakeIo(env: NodeJS.ProcessEnv, input: Buffer | string | null = ""): FakeIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  if (input !== null) stdin.end(input);
  return {
    io: { stdout, stderr, stdin, env },
    stdout: new Captured(stdout),
    stderr: new Captured(stderr),
    stdin,
  };
}

const tempDirs: string[] = [];

export async function tempDir(prefix = "gb-cli-"): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** An environment with its own XDG_CONFIG_HOME, so the real home is never touched. */
export async function testEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  return { XDG_CONFIG_HOME: await tempDir("gb-cli-config-"), NO_COLOR: "1", ...extra };
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(
    tempDirs
      .splice(0)
      .map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined)),
  );
}

/** Rejects with `message` when `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${ms} ms: ${message}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
