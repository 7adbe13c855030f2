/**
 * Finding 15 (client part): a connection-wide failure reaches every pending item, and
 * was printed once per item (three identical lines for three items). It is printed once;
 * the exit code and the per-item --json "failed" events stay.
 */
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout } from "../cli/fake-io.js";
import { SAMPLE_DICT, SAMPLE_TEXT } from "../support/samples.js";
import { closeFakeServers, fakeServer, WAIT_MS, type Peer } from "../support/fake-server.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

/** Like gb-server over --max-connections: preamble, HELLO, ERROR BUSY, close. */
function busy(peer: Peer): void {
  peer.greet();
  peer.error("BUSY", "the server is serving too many connections; try again later", undefined);
  peer.socket.end();
}

/** Drops the connection when the first item is complete. */
function dropAfterFirstItem(peer: Peer): void {
  peer.greet();
  peer.onItemEnd = () => {
    peer.socket.destroy();
  };
}

const THREE_ITEMS = ["--dict", SAMPLE_DICT, "--file", SAMPLE_TEXT, "--file", SAMPLE_TEXT];

async function run(port: number, extra: string[] = []) {
  const fake = fakeIo(await testEnv());
  const code = await withTimeout(
    runClient(["--port", String(port), ...THREE_ITEMS, ...extra], fake.io),
    WAIT_MS,
    "runClient",
  );
  return { code, stdout: fake.stdout, stderr: fake.stderr };
}

describe("a connection-wide failure with three items pending", () => {
  it("BUSY: one error line, exit 4", async () => {
    const port = await fakeServer(busy);
    const { code, stdout, stderr } = await run(port);
    expect(code).toBe(ExitCode.REJECTED);
    expect(stdout.text).toBe("");
    expect(stderr.lines).toEqual([
      "error: the server refused the connection: the server is serving too many connections; try again later",
    ]);
  });

  it("BUSY with --json: still one failed event per item, ids 1 to 3", async () => {
    const port = await fakeServer(busy);
    const { code, stdout, stderr } = await run(port, ["--json"]);
    expect(code).toBe(ExitCode.REJECTED);
    expect(stderr.text).toBe("");
    expect(stdout.json).toEqual(
      [1, 2, 3].map((id) => expect.objectContaining({ event: "failed", id, code: "BUSY" })),
    );
  });

  it("the connection lost mid-run: one error line, exit 3", async () => {
    const port = await fakeServer(dropAfterFirstItem);
    const { code, stdout, stderr } = await run(port);
    expect(code).toBe(ExitCode.NETWORK);
    expect(stdout.text).toBe("");
    expect(stderr.lines).toHaveLength(1);
    expect(stderr.lines[0]).toMatch(/^error: (connection lost: |the server closed the connection)/);
  });
});
