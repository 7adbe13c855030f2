/**
 * gb-server started under a low open-file limit (`ulimit -n 64`): it says at start what
 * the limit allows, serves only as many connections as it has descriptors for, tells the
 * rest BUSY in the protocol (rather than running out, EMFILE, and dropping them), and
 * keeps working once they are gone.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import { RawPeer, Resources, fileItemInFlight, readError } from "../integration/helpers.js";
import {
  SAMPLE_TEXT,
  SERVER_BIN,
  WAIT_MS,
  freshEnv,
  runClient,
  tempDir,
  withTimeout,
} from "./harness.js";

const OPEN_FILE_LIMIT = 64;
/** Connections tried beyond those the server says it serves. */
const EXTRA_CONNECTIONS = 5;

const resources = new Resources();
afterEach(() => resources.release());

interface LimitedServer {
  readonly port: number;
  readonly maxConnections: number;
  readonly stderr: () => string;
}

/** gb-server under `ulimit -n`, in the clear from this machine, saving to a temp dir. */
async function startLimitedServer(): Promise<LimitedServer> {
  const env = await freshEnv();
  const dir = await tempDir("gb-e2e-files-");
  const child = spawn(
    "sh",
    [
      "-c",
      `ulimit -n ${OPEN_FILE_LIMIT} && exec "$0" "$@"`,
      process.execPath,
      SERVER_BIN,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--no-print",
      "--save-dir",
      path.join(dir, "save"),
      "--key-file",
      path.join(dir, "key"),
      "--create-key",
    ],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<void>((resolve) =>
    child.once("close", () => {
      resolve();
    }),
  );
  resources.defer(async () => {
    child.kill("SIGKILL");
    await exited;
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  const ready = new Promise<LimitedServer>((resolve, reject) => {
    child.stderr.on("data", (text: string) => {
      stderr += text;
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
      const connections = /connections: up to (\d+)/.exec(stderr)?.[1];
      if (port !== undefined && connections !== undefined) {
        resolve({ port: Number(port), maxConnections: Number(connections), stderr: () => stderr });
      }
    });
    void exited.then(() => {
      reject(new Error(`gb-server exited: ${stderr}`));
    });
  });
  return withTimeout(ready, WAIT_MS, "gb-server under ulimit -n to listen");
}

describe("gb-server under ulimit -n 64", () => {
  it("says what the limit allows, tells connections beyond it BUSY, and keeps serving", async () => {
    const server = await startLimitedServer();
    expect(server.stderr()).toContain(`open files: up to ${OPEN_FILE_LIMIT} (ulimit -n)`);
    expect(server.maxConnections).toBeGreaterThan(0);
    expect(server.maxConnections).toBeLessThan(OPEN_FILE_LIMIT / 2);

    // Each served connection holds a file item in flight: its socket and its file.
    const served: RawPeer[] = [];
    for (let index = 0; index < server.maxConnections; index++) {
      const peer = await RawPeer.connect(resources, server.port);
      await peer.write(fileItemInFlight(`held-${index}.bin`, 1000, 10));
      await peer.hello();
      served.push(peer);
    }
    for (let index = 0; index < EXTRA_CONNECTIONS; index++) {
      const extra = await RawPeer.connect(resources, server.port);
      const error = await extra.waitError();
      expect(error).toMatchObject({ code: "BUSY", id: undefined });
      extra.destroy();
    }
    // The held items are still being received: nothing failed for want of a descriptor.
    for (const peer of served) {
      expect(peer.frames.filter((f) => f.type === FrameType.ERROR).map(readError)).toEqual([]);
      peer.destroy();
    }

    const env = await freshEnv();
    const client = await runClient(
      ["--host", "127.0.0.1", "--port", String(server.port), "--file", SAMPLE_TEXT, "--json"],
      { env },
    );
    expect(client.code).toBe(0);
  });
});
