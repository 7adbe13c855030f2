/**
 * gb-server reports the listener's accept errors: with --json as acceptError events,
 * at most one per interval, the rest counted and reported at shutdown; the server goes
 * on serving. The listener is reached by wrapping node:net's createServer.
 */
import type { Server } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { runServer } from "../../src/cli/server-command.js";
import { SAMPLE_DICT } from "../support/samples.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout, WAIT_MS } from "./fake-io.js";

const listeners = vi.hoisted(() => [] as Server[]);

vi.mock("node:net", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:net")>();
  const createServer = (...args: Parameters<typeof actual.createServer>): Server => {
    const server = actual.createServer(...args);
    listeners.push(server);
    return server;
  };
  return { ...actual, createServer, default: { ...actual, createServer } };
});

afterEach(removeTempDirs);

function emfile(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error("accept EMFILE");
  error.code = "EMFILE";
  error.syscall = "accept";
  return error;
}

describe("gb-server and accept errors", () => {
  it("--json: one acceptError event at once, the rest of the storm at shutdown; items still go through", async () => {
    const env = await testEnv();
    const fake = fakeIo(env);
    const controller = new AbortController();
    const done = runServer(
      ["--host", "127.0.0.1", "--port", "0", "--json", "--no-save"],
      fake.io,
      controller.signal,
    );
    try {
      const listening = await fake.stdout.waitFor(
        (out) => out.json.find((event) => event["event"] === "listening"),
        "the listening event",
      );
      const listener = listeners.find(
        (server) => (server.address() as { port?: number } | null)?.port === listening["port"],
      );
      expect(listener).toBeDefined();
      for (let i = 0; i < 100; i++) listener!.emit("error", emfile());
      const first = await fake.stdout.waitFor(
        (out) => out.json.find((event) => event["event"] === "acceptError"),
        "an acceptError event",
      );
      expect(first).toMatchObject({ code: "CONNECT_FAILED", errno: "EMFILE", count: 1 });

      const client = fakeIo(env);
      const sent = await runClient(
        ["--host", "127.0.0.1", "--port", String(listening["port"]), "--dict", SAMPLE_DICT],
        client.io,
      );
      expect(sent).toBe(ExitCode.OK);
      await fake.stdout.waitFor(
        (out) => out.json.find((event) => event["event"] === "item"),
        "the item event",
      );
    } finally {
      controller.abort();
    }
    expect(await withTimeout(done, WAIT_MS, "server stop")).toBe(ExitCode.OK);
    const reports = fake.stdout.json.filter((event) => event["event"] === "acceptError");
    expect(reports.map((event) => event["count"])).toEqual([1, 99]);
    expect(fake.stderr.text).not.toContain("warning:");
  });
});
