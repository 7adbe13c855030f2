/**
 * gb-server run in-process (runServer with a fake terminal) for CLI tests: started,
 * awaited until its `listening` event, and stopped by {@link stopInProcessServers}.
 */
import { runServer } from "../../src/cli/server-command.js";
import { fakeIo, withTimeout, WAIT_MS, type FakeIo } from "./fake-io.js";

export interface InProcessServer {
  readonly fake: FakeIo;
  readonly controller: AbortController;
  readonly done: Promise<number>;
  readonly listening: Record<string, unknown>;
  readonly port: number;
}

/** Servers still running: aborted and awaited by {@link stopInProcessServers}. */
const running: { controller: AbortController; done: Promise<number> }[] = [];

/**
 * Runs gb-server with `argv` (which should hold --json and a port) and resolves once its
 * listening event is on stdout; rejects when it returns first.
 */
export async function startInProcessServer(
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<InProcessServer> {
  const fake = fakeIo(env);
  const controller = new AbortController();
  const done = runServer(argv, fake.io, controller.signal);
  running.push({ controller, done });
  const listening = await Promise.race([
    fake.stdout.waitFor(
      (out) => out.json.find((event) => event["event"] === "listening"),
      "the listening event",
    ),
    done.then((code) => {
      throw new Error(`runServer returned ${code} before listening:\n${fake.stderr.text}`);
    }),
  ]);
  return { fake, controller, done, listening, port: Number(listening["port"]) };
}

/** Registers a server a test ran itself, so that it is stopped with the others. */
export function trackInProcessServer(controller: AbortController, done: Promise<number>): void {
  running.push({ controller, done });
}

/** Aborts every server still running and waits for each (for afterEach). */
export async function stopInProcessServers(): Promise<void> {
  for (const { controller } of running) controller.abort();
  await Promise.all(
    running.splice(0).map(({ done }) => withTimeout(done, WAIT_MS, "server stop").catch(() => 0)),
  );
}
