/**
 * Finding 11: between HELLO and the client object taking over, the client derives its
 * key from a passphrase (about 0.3 s) with no "error" listener on the socket. A server
 * that resets the connection then crashed the client ("Unhandled 'error' event
 * ECONNRESET", exit 1; the README says 3), and one that closed it then left close()
 * waiting forever for a "close" event that had already happened. In version 2 the
 * handshake follows the key's derivation, so it is the connection that fails, cleanly.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { deriveKeyFromPassphrase } from "../../src/crypto/passphrase.js";
import { GbClient } from "../../src/transfer/client.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout } from "../cli/fake-io.js";
import { freshEnv, runClient as runClientBinary } from "../e2e/harness.js";
import { SAMPLE_TEXT } from "../support/samples.js";
import { closeFakeServers, fakeServer, WAIT_MS, type Peer } from "../support/fake-server.js";

const PASSPHRASE = "correct horse battery staple";
const SALT = randomBytes(16);
/**
 * How long after HELLO the server resets. Not a readiness wait: it puts the reset inside
 * the client's key derivation (about 0.3 s) rather than in the same read as HELLO, where
 * the OS would report it as a plain end of stream.
 */
const RESET_AFTER_MS = 50;
let serverKey: Buffer;

beforeAll(async () => {
  // The server must hold the same key, or the client stops with KEY_MISMATCH instead.
  serverKey = await deriveKeyFromPassphrase(PASSPHRASE, SALT);
});

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

/**
 * Greets at once, as a server must (the client may hold its preamble back until its
 * first frame [P-PREAMBLE]), then runs `then`.
 */
function greetThen(then: (peer: Peer) => void): (peer: Peer) => void {
  return (peer) => {
    peer.greet({ scryptSalt: SALT });
    then(peer);
  };
}

const resetSoonAfterHello = greetThen((peer) => {
  setTimeout(() => {
    peer.socket.resetAndDestroy();
  }, RESET_AFTER_MS);
});

const closeRightAfterHello = greetThen((peer) => {
  peer.socket.end();
});

function serve(script: (peer: Peer) => void): Promise<number> {
  return fakeServer(script, { masterKey: serverKey });
}

function connect(port: number): Promise<GbClient> {
  return withTimeout(
    GbClient.connect({ host: "127.0.0.1", port, encryption: { passphrase: PASSPHRASE } }),
    WAIT_MS,
    "connect",
  );
}

describe("the connection fails while the client derives its key from a passphrase", () => {
  it("a reset: connecting fails with CONNECTION_LOST (no unhandled error)", async () => {
    const port = await serve(resetSoonAfterHello);
    await expect(connect(port)).rejects.toMatchObject({ code: "CONNECTION_LOST" });
  });

  it("a close (already done when the handshake starts): connecting fails with CONNECTION_LOST", async () => {
    const port = await serve(closeRightAfterHello);
    await expect(connect(port)).rejects.toMatchObject({ code: "CONNECTION_LOST" });
  });

  it("[H-PSK] with the server holding the same key, the handshake after the derivation succeeds", async () => {
    const port = await serve(greetThen(() => undefined));
    const client = await connect(port);
    expect(client.session.encrypted).toBe(true);
    client.destroy();
  });

  it("gb-client, in process: exit 3 and one error line", async () => {
    for (const script of [closeRightAfterHello, resetSoonAfterHello]) {
      const port = await serve(script);
      const fake = fakeIo(await testEnv({ GB_PASSPHRASE: PASSPHRASE }));
      const code = await withTimeout(
        runClient(
          ["--port", String(port), "--encrypt", "--file", SAMPLE_TEXT, "--file", SAMPLE_TEXT],
          fake.io,
        ),
        WAIT_MS,
        "runClient",
      );
      expect(code).toBe(ExitCode.NETWORK);
      expect(fake.stdout.text).toBe("");
      expect(fake.stderr.lines).toEqual([
        expect.stringMatching(/^error: (connection lost: |the server closed the connection)/),
      ]);
    }
  });

  it("the gb-client binary: exit 3, not a crash (exit 1)", async () => {
    const port = await serve(resetSoonAfterHello);
    const result = await runClientBinary(
      ["--port", String(port), "--encrypt", "--file", SAMPLE_TEXT],
      { env: await freshEnv({ GB_PASSPHRASE: PASSPHRASE }) },
    );
    expect(result.stderr).not.toContain("Unhandled");
    expect(result.code).toBe(ExitCode.NETWORK);
    expect(result.stderr).toMatch(/^error: (connection lost: |the server closed the connection)/);
  });
});
