/**
 * [S-TIMEOUT] Deadlines besides the idle timeout: the opening (preamble, then a handshake
 * or a first ITEM) must finish in time, and an item in progress must bring a minimum of
 * bytes in every window, so that a peer sending a byte now and then cannot hold a slot,
 * a partial file and its descriptor for ever. A slow but honest sender still gets through,
 * and the server's own waits are not held against the client.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import {
  RawPeer,
  expectNoTempFiles,
  expectServerHealthy,
  frameHeader,
  plainDictItem,
  plainFileItem,
  plainItemFrame,
  preamble,
  readReceipt,
  startServer,
  storedFiles,
  useResources,
} from "./helpers.js";

const resources = useResources();

/** Far longer than any deadline under test: a TIMEOUT before it is not the idle timeout. */
const IDLE_MS = 60_000;
const OPENING_MS = 300;
const WINDOW_MS = 200;
/** How often the trickling peer sends a byte: well inside the idle timeout. */
const TRICKLE_EVERY_MS = 20;
/** Bound on the bytes the trickling peer sends. */
const MAX_TRICKLE_BYTES = 500;

describe("[S-TIMEOUT] the opening deadline", () => {
  it("a peer that sends nothing is told TIMEOUT once the opening deadline passes", async () => {
    const ts = await startServer(resources, {
      idleTimeoutMs: IDLE_MS,
      openingTimeoutMs: OPENING_MS,
    });
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.waitClosed(5000);
    expect(peer.errors()).toEqual([expect.objectContaining({ code: "TIMEOUT", id: undefined })]);
  });

  it("a peer that sends its preamble but never its handshake is told TIMEOUT", async () => {
    const ts = await startServer(resources, {
      idleTimeoutMs: IDLE_MS,
      openingTimeoutMs: OPENING_MS,
    });
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(Buffer.concat([preamble(), frameHeader(FrameType.HANDSHAKE, 48)]));
    await peer.waitClosed(5000);
    expect(peer.errors()).toEqual([expect.objectContaining({ code: "TIMEOUT", id: undefined })]);
    expect(ts.failures).toEqual([expect.objectContaining({ code: "TIMEOUT", id: undefined })]);
  });

  it("a connection that opened in time is not held to the opening deadline", async () => {
    const ts = await startServer(resources, {
      idleTimeoutMs: IDLE_MS,
      openingTimeoutMs: OPENING_MS,
    });
    const opened = await RawPeer.session(resources, ts.port, ts.masterKey);
    // Another peer that never opens: once it is timed out, the deadline has passed for both.
    const silent = await RawPeer.connect(resources, ts.port);
    await silent.waitClosed(5000);
    expect(opened.isClosed).toBe(false);
    const body = Buffer.from('{"late":true}');
    await opened.send(plainDictItem(1, "late", "json", body));
    expect(readReceipt((await opened.waitAnswers(1))[0]!).body.bytes).toBe(body.length);
  });
});

describe("[S-TIMEOUT] an item's progress", () => {
  it("a peer trickling a byte at a time mid-item is told TIMEOUT; its partial file goes", async () => {
    const ts = await startServer(resources, {
      idleTimeoutMs: IDLE_MS,
      progressWindowMs: WINDOW_MS,
      minProgressBytes: 1024,
    });
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "file", name: "trickle.bin", size: 100_000 }),
        frameHeader(FrameType.CHUNK, 65536),
      ]),
    );
    let sent = 0;
    const trickle = setInterval(() => {
      if (peer.isClosed || sent >= MAX_TRICKLE_BYTES) clearInterval(trickle);
      else {
        sent++;
        peer.socket.write(Buffer.from([sent & 0xff]));
      }
    }, TRICKLE_EVERY_MS);
    resources.defer(() => {
      clearInterval(trickle);
    });
    await peer.waitClosed(10_000);
    expect(sent).toBeLessThan(MAX_TRICKLE_BYTES);
    expect(peer.errors()).toEqual([expect.objectContaining({ code: "TIMEOUT", id: undefined })]);
    expect(await ts.waitFailure()).toMatchObject({ code: "TIMEOUT", id: 1, name: "trickle.bin" });
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
    await expectServerHealthy(resources, ts);
  });

  it("a peer that stops mid-frame between items is told TIMEOUT before the idle timeout", async () => {
    const ts = await startServer(resources, {
      idleTimeoutMs: IDLE_MS,
      progressWindowMs: WINDOW_MS,
      minProgressBytes: 1024,
    });
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainFileItem(1, "first.txt", Buffer.from("first")),
        frameHeader(FrameType.ITEM, 60),
      ]),
    );
    await peer.waitClosed(10_000);
    expect(readReceipt(peer.answers()[0]!).body.savedAs).toBe("first.txt");
    expect(peer.errors()).toEqual([expect.objectContaining({ code: "TIMEOUT", id: undefined })]);
  });

  it("a slow but honest sender, above the minimum rate, gets its file stored", async () => {
    const ts = await startServer(resources, {
      idleTimeoutMs: IDLE_MS,
      progressWindowMs: WINDOW_MS,
      minProgressBytes: 1024,
    });
    const data = randomBytes(16 * 1024);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "file", name: "slow.bin", size: data.length }),
        frameHeader(FrameType.LAST_CHUNK, data.length),
      ]),
    );
    // 512 bytes every 20 ms: about 5 KiB per 200 ms window, five times the minimum.
    for (let at = 0; at < data.length; at += 512) {
      await peer.write(data.subarray(at, at + 512));
      await new Promise((resolve) => setTimeout(resolve, TRICKLE_EVERY_MS));
    }
    const [receipt] = await peer.waitAnswers(1, 10_000);
    expect(readReceipt(receipt!).body.bytes).toBe(data.length);
  });

  it("the server's own waits are not held against the client", async () => {
    const ts = await startServer(resources, {
      idleTimeoutMs: IDLE_MS,
      progressWindowMs: 50,
      minProgressBytes: 1024,
    });
    // The server works on this one (a worker, then the disk) for many windows, while the
    // next item waits half-read in its buffers.
    const slow = Buffer.from(`{"n":${"7".repeat(1_000_000)}}`);
    const next = plainFileItem(2, "next.txt", Buffer.from("next"));
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([preamble(), plainDictItem(1, "slow", "json", slow), next.subarray(0, 10)]),
    );
    const [first] = await peer.waitAnswers(1, 30_000);
    expect(readReceipt(first!).body.bytes).toBe(slow.length);
    await peer.write(next.subarray(10));
    const answers = await peer.waitAnswers(2, 10_000);
    expect(readReceipt(answers[1]!).body.savedAs).toBe("next.txt");
  });
});
