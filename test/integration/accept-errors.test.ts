/**
 * Accept errors (EMFILE, ENFILE...) of the listening socket are reported as
 * `acceptError` events, and the server goes on serving. The listener is reached by
 * wrapping node:net's createServer, so a test can emit an error on it as Node would.
 */
import type { Server } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { NetworkError } from "../../src/errors.js";
import { expectServerHealthy, startServer, useResources } from "./helpers.js";

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

const resources = useResources();

/** The error Node's net.Server emits when accept(2) fails with `code`. */
function acceptFailure(code: string, errno: number): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`accept ${code}`);
  error.code = code;
  error.errno = errno;
  error.syscall = "accept";
  return error;
}

describe("accept errors", () => {
  it("are reported as acceptError (NetworkError CONNECT_FAILED, cause kept); the server goes on", async () => {
    const ts = await startServer(resources);
    const listener = listeners.at(-1)!;
    expect(listener.address()).toMatchObject({ port: ts.port });
    const reported: NetworkError[] = [];
    ts.server.on("acceptError", (error) => reported.push(error));
    const emfile = acceptFailure("EMFILE", -24);
    const enfile = acceptFailure("ENFILE", -23);
    listener.emit("error", emfile);
    listener.emit("error", enfile);
    expect(reported).toHaveLength(2);
    for (const [error, cause] of [
      [reported[0]!, emfile],
      [reported[1]!, enfile],
    ] as const) {
      expect(error).toBeInstanceOf(NetworkError);
      expect(error.code).toBe("CONNECT_FAILED");
      expect(error.remote).toBe(false);
      expect(error.cause).toBe(cause);
    }
    expect(ts.failures).toEqual([]);
    await expectServerHealthy(resources, ts);
  });

  it("a throwing acceptError listener reaches the error event, not the server", async () => {
    const ts = await startServer(resources);
    const boom = new Error("listener bug");
    ts.server.on("acceptError", () => {
      throw boom;
    });
    const errors: unknown[] = [];
    ts.server.on("error", (error) => errors.push(error));
    listeners.at(-1)!.emit("error", acceptFailure("EMFILE", -24));
    expect(errors).toEqual([boom]);
    await expectServerHealthy(resources, ts);
  });

  it("without an acceptError listener, an accept error is dropped and the server goes on", async () => {
    const ts = await startServer(resources);
    const errors: unknown[] = [];
    ts.server.on("error", (error) => errors.push(error));
    listeners.at(-1)!.emit("error", acceptFailure("EMFILE", -24));
    expect(errors).toEqual([]);
    await expectServerHealthy(resources, ts);
  });
});
