/**
 * [F-COALESCE] A peer that sends a frame a byte at a time, in the clear or a record per
 * byte, makes the server hold a few buffers for it, not one per read: small reads are
 * copied into one staging block.
 */
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import {
  RawPeer,
  frameHeader,
  plainItemFrame,
  preamble,
  readReceipt,
  startServer,
  useResources,
  type TestServer,
} from "./helpers.js";

const resources = useResources();
const CHUNK_BYTES = 8192;
/** Buffers the server may hold for one connection's frame in progress. */
const MOST_CHUNKS = 4;
/** Bound on the whole byte-by-byte send. */
const DRIBBLE_MS = 20_000;

/** Sends a file item whose one CHUNK goes a byte per write; returns the most buffers held. */
async function dribble(ts: TestServer, peer: RawPeer): Promise<number> {
  const item = plainItemFrame(1, { kind: "file", name: "slow.bin", size: CHUNK_BYTES });
  await peer.send(Buffer.concat([item, frameHeader(FrameType.CHUNK, CHUNK_BYTES)]));
  let most = 0;
  const deadline = Date.now() + DRIBBLE_MS;
  // All but the last byte: with it the frame is complete, and handled.
  for (let sent = 0; sent < CHUNK_BYTES - 1; sent++) {
    await peer.send(Buffer.from([sent & 0xff]));
    // Each byte is read on its own: the next goes once the server holds this one.
    while (ts.server.readBuffers.bytes <= sent) {
      if (Date.now() > deadline) throw new Error(`the server read ${sent} bytes in time`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    most = Math.max(most, ts.server.readBuffers.chunks);
  }
  await peer.send(Buffer.concat([Buffer.from([0xff]), frameHeader(FrameType.LAST_CHUNK, 0)]));
  const [answer] = await peer.waitAnswers(1, 30_000);
  expect(readReceipt(answer!).body.bytes).toBe(CHUNK_BYTES);
  return most;
}

describe("[F-COALESCE] a frame a byte at a time", () => {
  it("on a plain connection, the server holds a few buffers", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(preamble());
    expect(await dribble(ts, peer)).toBeLessThanOrEqual(MOST_CHUNKS);
  });

  it("in an encrypted session, a record per byte, the server holds a few buffers", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.session(resources, ts.port, ts.masterKey);
    expect(await dribble(ts, peer)).toBeLessThanOrEqual(MOST_CHUNKS);
  });
});
