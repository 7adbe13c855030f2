/**
 * Finding 12: GbClient.close() ends our side, then waited for "close" with no timer, so a
 * server that never closes its side kept the client (and gb-client) waiting forever.
 * Now a bounded timer (CLOSE_TIMEOUT_MS, or ClientOptions.closeTimeoutMs) destroys the
 * socket.
 */
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { CLOSE_TIMEOUT_MS, GbClient } from "../../src/transfer/client.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout } from "../cli/fake-io.js";
import { SAMPLE_TEXT } from "../support/samples.js";
import {
  closeFakeServers,
  fakeServer,
  storingScript,
  WAIT_MS,
  type Peer,
} from "../support/fake-server.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

/** Stores items, but never closes its side after the client's FIN. */
async function neverClosingServer(): Promise<{ port: number; peers: Peer[] }> {
  const peers: Peer[] = [];
  const port = await fakeServer(
    (peer: Peer) => {
      peers.push(peer);
      storingScript(peer);
      peer.onClientEnd = () => undefined;
    },
    { allowHalfOpen: true },
  );
  return { port, peers };
}

describe("close() against a server that never closes the connection", () => {
  it("CLOSE_TIMEOUT_MS is 5 s", () => {
    expect(CLOSE_TIMEOUT_MS).toBe(5_000);
  });

  it("GbClient.close() destroys the socket once closeTimeoutMs has passed", async () => {
    const { port, peers } = await neverClosingServer();
    const closeTimeoutMs = 200;
    const client = await GbClient.connect({ host: "127.0.0.1", port, closeTimeoutMs });
    const sent = await withTimeout(client.sendFile(SAMPLE_TEXT), WAIT_MS, "the receipt");
    expect(sent.bytes).toBe(319);
    const started = Date.now();
    await withTimeout(client.close(), WAIT_MS, "close()");
    // It waited for the server first, and gave up at the bound.
    expect(Date.now() - started).toBeGreaterThanOrEqual(closeTimeoutMs - 20);
    // The server's side is still open: the client did not wait for it.
    expect(peers[0]!.socket.destroyed).toBe(false);
  });

  it("gb-client exits 0 within CLOSE_TIMEOUT_MS (plus slack)", async () => {
    const { port } = await neverClosingServer();
    const fake = fakeIo(await testEnv());
    const code = await withTimeout(
      runClient(["--port", String(port), "--json", "--file", SAMPLE_TEXT], fake.io),
      5_000 + WAIT_MS, // CLOSE_TIMEOUT_MS, plus slack
      "runClient",
    );
    expect(code).toBe(ExitCode.OK);
    expect(fake.stdout.json).toEqual([expect.objectContaining({ event: "stored", id: 1 })]);
  });
});
