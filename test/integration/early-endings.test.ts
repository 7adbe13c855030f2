/**
 * [S-END] How items end early: the rest of a refused item is dropped unread (any length,
 * then an empty LAST_CHUNK), and a stream that ends mid-item gets a connection ERROR
 * TRUNCATED without id, on a plain connection and in an encrypted session (where the
 * frames travel in records). Frames are written as literal bytes.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import {
  RawPeer,
  expectNoTempFiles,
  expectServerHealthy,
  frame,
  plainFileItem,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
  startServer,
  storedFiles,
  useResources,
  waitForTempFile,
  type TestServer,
} from "./helpers.js";

const resources = useResources();

/** Literal bytes: a frame header in hex, then its payload. */
function bytes(hex: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from(hex.replace(/ /g, ""), "hex"), payload]);
}

/** The server's answer to a half-close mid-item: one ERROR TRUNCATED without id, then close. */
async function expectTruncated(ts: TestServer, peer: RawPeer): Promise<void> {
  const error = await peer.waitError((e) => e.id === undefined);
  expect(error.code).toBe("TRUNCATED");
  await peer.waitClosed();
  expect(peer.frames.at(-1)!.type).toBe(FrameType.ERROR);
  expect(peer.errors().filter((e) => e.id === undefined)).toHaveLength(1);
  expect(await storedFiles(ts.saveDir!)).toEqual([]);
  await expectNoTempFiles(ts.saveDir!);
  await expectServerHealthy(resources, ts);
}

describe("[S-END] end of stream mid-item", () => {
  it("[S-END] in ITEM: ERROR TRUNCATED without id, the partial file discarded, closed", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        // Over SMALL_FILE_MAX_BYTES: written to a partial file as it arrives.
        plainItemFrame(1, { kind: "file", name: "part.bin", size: 100_000 }),
        bytes("03 00000004", Buffer.from("part")),
      ]),
    );
    await waitForTempFile(ts.saveDir!);
    peer.end();
    await expectTruncated(ts, peer);
    // No item ERROR: the item was not refused, the connection broke under it.
    expect(peer.errors()).toEqual([expect.objectContaining({ code: "TRUNCATED", id: undefined })]);
    expect(ts.failures).toEqual([
      expect.objectContaining({ code: "TRUNCATED", id: 1, name: "part.bin" }),
    ]);
  });

  it("[S-END] in ITEM, in an encrypted session, cut at a chunk boundary: TRUNCATED without id", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.session(resources, ts.port, ts.masterKey);
    await peer.send(
      Buffer.concat([
        plainItemFrame(1, { kind: "file", name: "s.bin", size: null }),
        frame(FrameType.CHUNK, randomBytes(65_536)),
      ]),
    );
    await waitForTempFile(ts.saveDir!);
    peer.end();
    await expectTruncated(ts, peer);
    expect(ts.failures).toEqual([expect.objectContaining({ code: "TRUNCATED", id: 1 })]);
  });

  it("[S-END] in DISCARD: the item ERROR, then ERROR TRUNCATED without id, closed", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "file", name: "big.bin", size: 1 }),
        bytes("03 00000002", Buffer.from("xy")),
      ]),
    );
    expect(await peer.waitError()).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    peer.end();
    await expectTruncated(ts, peer);
    expect(peer.errors().map((e) => [e.code, e.id])).toEqual([
      ["SIZE_MISMATCH", 1],
      ["TRUNCATED", undefined],
    ]);
    // The refused item was reported when refused; the end of stream is the connection's.
    expect(ts.failures.map((f) => [f.code, f.id])).toEqual([
      ["SIZE_MISMATCH", 1],
      ["TRUNCATED", undefined],
    ]);
  });

  it("[S-END] in the middle of a frame between items: TRUNCATED without id", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([preamble(), plainFileItem(1, "a.txt", Buffer.from("a")), bytes("02 000000")]),
    );
    peer.end();
    const error = await peer.waitError((e) => e.id === undefined);
    expect(error.code).toBe("TRUNCATED");
    expect(readReceipt(peer.answers()[0]!).body.savedAs).toBe("a.txt");
    await peer.waitClosed();
  });
});

describe("[S-END] the rest of a refused item is dropped unread", () => {
  /** Frames no ITEM state would take, each within [F-LIMIT]; all dropped in DISCARD. */
  const UNREAD = [
    bytes("03 00000000"), // an empty CHUNK: MALFORMED_MESSAGE in ITEM
    bytes("03 00000001", Buffer.from([0x00])),
    bytes("03 0000000f", Buffer.alloc(15, 0xee)),
    bytes("03 00010000", Buffer.alloc(65_536, 0xee)), // the largest CHUNK frame
  ];

  it("[S-END] a plaintext item refused mid-item: CHUNKs of any length, then an empty LAST_CHUNK", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "file", name: "big.bin", size: 1 }),
        bytes("03 00000002", Buffer.from("xy")),
        ...UNREAD,
        bytes("04 00000000"),
        plainFileItem(2, "next.txt", Buffer.from("next")),
      ]),
    );
    peer.end();
    const answers = await peer.waitAnswers(2);
    await peer.waitClosed();
    expect(readError(answers[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readReceipt(answers[1]!)).toMatchObject({ id: 2, body: { savedAs: "next.txt" } });
    expect(peer.errors().filter((e) => e.id === undefined)).toEqual([]);
    expect(await storedFiles(ts.saveDir!)).toEqual(["next.txt"]);
  });

  it("[S-END] in an encrypted session, an item refused mid-item: CHUNKs of any length, then an empty LAST_CHUNK", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.session(resources, ts.port, ts.masterKey);
    await peer.send(
      Buffer.concat([
        plainItemFrame(1, { kind: "file", name: "s.bin", size: 10 }),
        // 20 bytes where 10 were declared: refused with SIZE_MISMATCH on its first chunk.
        bytes("03 00000014", randomBytes(20)),
        ...UNREAD,
        bytes("04 00000000"),
        plainFileItem(2, "n.txt", Buffer.from("n")),
      ]),
    );
    peer.end();
    const answers = await peer.waitAnswers(2);
    await peer.waitClosed();
    expect(readError(answers[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readReceipt(answers[1]!)).toMatchObject({ id: 2, body: { savedAs: "n.txt" } });
    expect(peer.errors().filter((e) => e.id === undefined)).toEqual([]);
    expect(ts.items[0]?.session).toEqual({ encrypted: true, fingerprint: peer.keys!.fingerprint });
  });
});
