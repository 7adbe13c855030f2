/**
 * [CLI-INTERRUPT] Ctrl-C (the run's signal aborting) stops gb-client whatever it is
 * waiting for, in-process: deriving a key from a passphrase, or a receipt the server never
 * sends. The pseudo-terminal tests (test/e2e/interrupt.test.ts) cover connecting and
 * sending with the real binary.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { PREAMBLE_BYTES } from "../../src/framing/preamble.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout } from "../cli/fake-io.js";
import { SAMPLE_TEXT } from "../support/samples.js";
import { closeFakeServers, fakeServer, WAIT_MS, type Peer } from "../support/fake-server.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

describe("[CLI-INTERRUPT] gb-client interrupted in-process", () => {
  it("[CLI-INTERRUPT] while deriving a key from a passphrase: 130, and no handshake is sent", async () => {
    let greeted!: () => void;
    const hello = new Promise<void>((resolve) => (greeted = resolve));
    const received: Buffer[] = [];
    const port = await fakeServer((peer: Peer) => {
      peer.socket.on("data", (chunk: Buffer) => received.push(chunk));
      peer.greet({ scryptSalt: randomBytes(16) });
      greeted();
    });
    const fake = fakeIo(await testEnv({ GB_PASSPHRASE: "correct horse battery staple" }));
    const controller = new AbortController();
    const run = runClient(
      ["--port", String(port), "--encrypt", "--file", SAMPLE_TEXT],
      fake.io,
      controller.signal,
    );
    await withTimeout(hello, WAIT_MS, "the greeting");
    // The client now derives its key (scrypt, about 0.3 s) before its handshake.
    controller.abort();
    expect(await withTimeout(run, WAIT_MS, "runClient")).toBe(ExitCode.INTERRUPTED);
    expect(fake.stderr.text).toBe("error: interrupted\n");
    // What arrived, if anything, is the client's preamble: never a handshake message.
    expect(Buffer.concat(received).length).toBeLessThanOrEqual(PREAMBLE_BYTES);
  });

  it("[CLI-INTERRUPT] while waiting for a receipt: 130, the connection dropped", async () => {
    let itemEnded!: () => void;
    const ended = new Promise<void>((resolve) => (itemEnded = resolve));
    let closed!: Promise<void>;
    const port = await fakeServer((peer: Peer) => {
      closed = new Promise((resolve) =>
        peer.socket.once("close", () => {
          resolve();
        }),
      );
      peer.greet();
      peer.onItemEnd = () => {
        itemEnded(); // and no receipt, ever
      };
    });
    const fake = fakeIo(await testEnv());
    const controller = new AbortController();
    const run = runClient(
      ["--port", String(port), "--file", SAMPLE_TEXT],
      fake.io,
      controller.signal,
    );
    await withTimeout(ended, WAIT_MS, "the item");
    controller.abort();
    expect(await withTimeout(run, WAIT_MS, "runClient")).toBe(ExitCode.INTERRUPTED);
    await withTimeout(closed, WAIT_MS, "the connection to close");
    expect(fake.stdout.text).toBe("");
  });
});
