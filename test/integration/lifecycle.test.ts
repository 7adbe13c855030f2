/**
 * Connection and server lifecycle: idle timeout, shutdown with items in flight, and the
 * connection limit.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import { GbClient } from "../../src/transfer/client.js";
import {
  HOST,
  RawPeer,
  connectClient,
  connectOverLimit,
  expectNoTempFiles,
  expectServerHealthy,
  fileItemInFlight,
  plainFileItem,
  preamble,
  readReceipt,
  startServer,
  storedFiles,
  useResources,
  waitForTempFile,
  within,
} from "./helpers.js";

const resources = useResources();

describe("idle timeout [S-TIMEOUT]", () => {
  it(
    "a peer that sends only the preamble is closed with ERROR TIMEOUT",
    { timeout: 5000 },
    async () => {
      const ts = await startServer(resources, { idleTimeoutMs: 200 });
      const peer = await RawPeer.connect(resources, ts.port);
      const started = Date.now();
      await peer.write(preamble());
      await peer.waitClosed(3000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(peer.parseError).toBeUndefined();
      expect(peer.frames.map((f) => f.type)).toEqual([FrameType.HELLO, FrameType.ERROR]);
      expect(peer.errors()).toEqual([expect.objectContaining({ code: "TIMEOUT", id: undefined })]);
      await expectServerHealthy(resources, ts);
    },
  );

  it(
    "a peer that sends nothing at all is closed with ERROR TIMEOUT",
    { timeout: 5000 },
    async () => {
      const ts = await startServer(resources, { idleTimeoutMs: 200 });
      const peer = await RawPeer.connect(resources, ts.port);
      await peer.waitClosed(3000);
      expect(peer.errors()).toEqual([expect.objectContaining({ code: "TIMEOUT", id: undefined })]);
    },
  );

  it(
    "a peer silent mid-item is closed with TIMEOUT and the partial item is discarded",
    { timeout: 5000 },
    async () => {
      const ts = await startServer(resources, { idleTimeoutMs: 200 });
      const peer = await RawPeer.connect(resources, ts.port);
      await peer.write(fileItemInFlight("slow.bin", 1000, 10));
      await peer.waitClosed(3000);
      expect(peer.errors()).toEqual([expect.objectContaining({ code: "TIMEOUT", id: undefined })]);
      const failure = await ts.waitFailure();
      expect(failure).toMatchObject({ code: "TIMEOUT", id: 1, name: "slow.bin" });
      expect(await storedFiles(ts.saveDir!)).toEqual([]);
      await expectNoTempFiles(ts.saveDir!);
    },
  );

  it("a slow but steady sender is not timed out", { timeout: 5000 }, async () => {
    const ts = await startServer(resources, { idleTimeoutMs: 200 });
    const client = await connectClient(resources, ts);
    const pieces = Array.from({ length: 6 }, () => randomBytes(1000));
    async function* slowly(): AsyncGenerator<Buffer> {
      for (const piece of pieces) {
        yield piece;
        // Simulates a slow source: the gaps add up to well over the idle timeout.
        await delay(80);
      }
    }
    const sent = await client.sendStream(slowly(), { name: "slow.bin", size: null });
    await client.close();
    expect(sent.receipt.bytes).toBe(6000);
  });
});

describe("shutdown", () => {
  it("close(200) with a client stalled mid-item: resolves, stores nothing, leaves no temp file", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(fileItemInFlight("stalled.bin", 100_000, 1000));
    await waitForTempFile(ts.saveDir!);
    const started = Date.now();
    await within(ts.server.close(200), 3000, "server.close(200)");
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await peer.waitClosed();
    expect(ts.server.connections).toBe(0);
    const failure = await ts.waitFailure();
    expect(failure).toMatchObject({ id: 1, name: "stalled.bin" });
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
    expect(ts.items).toEqual([]);
  });

  it("close(grace) lets an item in flight finish, then ends the connection with SHUTTING_DOWN", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    // Over SMALL_FILE_MAX_BYTES: written to a partial file as it arrives.
    const data = randomBytes(100_000);
    const whole = plainFileItem(1, "finishing.bin", data, { chunkSize: 10_000 });
    await peer.write(Buffer.concat([preamble(), whole.subarray(0, 20_000)]));
    await waitForTempFile(ts.saveDir!);
    const closing = ts.server.close(5000);
    // New connections are no longer accepted once close() has begun.
    await expect(
      GbClient.connect({ host: HOST, port: ts.port, connectTimeoutMs: 2000 }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^(CONNECT_FAILED|SHUTTING_DOWN)$/),
    });
    await peer.write(whole.subarray(20_000));
    await within(closing, 3000, "server.close(5000)");
    await peer.waitClosed();
    const answers = peer.answers();
    expect(readReceipt(answers[0]!)).toMatchObject({ id: 1, body: { savedAs: "finishing.bin" } });
    expect(peer.errors()).toEqual([
      expect.objectContaining({ code: "SHUTTING_DOWN", id: undefined }),
    ]);
    expect((await readFile(path.join(ts.saveDir!, "finishing.bin"))).equals(data)).toBe(true);
    expect(ts.failures).toEqual([]);
  });

  it("idle connected clients are told SHUTTING_DOWN", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(preamble());
    await peer.hello();
    const silent = await RawPeer.connect(resources, ts.port);
    await silent.hello(); // connected, but has not even sent its preamble

    await within(ts.server.close(1000), 3000, "server.close(1000)");
    await peer.waitClosed();
    await silent.waitClosed();
    expect(peer.errors()).toEqual([
      expect.objectContaining({ code: "SHUTTING_DOWN", id: undefined }),
    ]);
    expect(silent.errors()).toEqual([
      expect.objectContaining({ code: "SHUTTING_DOWN", id: undefined }),
    ]);
    await expect(client.sendDict({ too: "late" }, { format: "json" })).rejects.toMatchObject({
      code: "SHUTTING_DOWN",
    });
    // Idle connections closing for shutdown are not item failures.
    expect(ts.failures).toEqual([]);
  });

  it("close() twice returns the same outcome and a closed server refuses connections", async () => {
    const ts = await startServer(resources);
    await Promise.all([ts.server.close(100), ts.server.close(100)]);
    await expect(
      GbClient.connect({ host: HOST, port: ts.port, connectTimeoutMs: 2000 }),
    ).rejects.toMatchObject({
      code: "CONNECT_FAILED",
    });
  });
});

describe("maxConnections", () => {
  it("with maxConnections 1 a second connection gets ERROR BUSY; once the first leaves, it works", async () => {
    const ts = await startServer(resources, { maxConnections: 1 });
    const { first, second } = await connectOverLimit(resources, ts);
    expect(second.serverVersion).toBe(2);
    expect(second.frames.map((f) => f.type)).toEqual([FrameType.HELLO, FrameType.ERROR]);
    expect(second.errors()).toEqual([expect.objectContaining({ code: "BUSY", id: undefined })]);

    // Through the library: the refusal surfaces as BUSY.
    await expect(
      (async () => {
        const client = await connectClient(resources, ts);
        await client.sendDict({ a: 1 }, { format: "json" });
      })(),
    ).rejects.toMatchObject({ code: "BUSY" });

    // The first connection is unaffected.
    await first.write(plainFileItem(1, "first.txt", Buffer.from("first")));
    first.end();
    const [answer] = await first.waitAnswers(1);
    expect(readReceipt(answer!).body.savedAs).toBe("first.txt");
    await first.waitClosed();
    await ts.waitNoConnections();
    await expectServerHealthy(resources, ts);
  });
});
