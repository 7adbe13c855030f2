/**
 * [S-END] How items end early: the rest of a refused item is dropped unread (any length,
 * an empty LAST_CHUNK even for an encrypted item), and a stream that ends mid-item gets
 * a connection ERROR TRUNCATED without id. Frames are written as literal bytes.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import type { ItemMeta } from "../../src/protocol/messages.js";
import {
  RawPeer,
  encryptedItem,
  expectNoTempFiles,
  expectServerHealthy,
  frame,
  plainFileItem,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
  sealedChunkFrames,
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
        plainItemFrame(1, { kind: "file", name: "part.bin", size: 10 }),
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

  it("[S-END] in ITEM, an encrypted item cut at a chunk boundary: TRUNCATED without id", async () => {
    const ts = await startServer(resources);
    const data = randomBytes(65_536 + 10);
    const item = encryptedItem(ts.masterKey, 1, { kind: "file", name: "s.bin", size: null }, data);
    expect(item.chunks).toHaveLength(2);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([preamble(), item.itemFrame, frame(FrameType.CHUNK, item.chunks[0]!.sealed)]),
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
    bytes("03 00000000"), // an empty CHUNK: MALFORMED_MESSAGE (plain) or DECRYPT_FAILED (sealed) in ITEM
    bytes("03 00000001", Buffer.from([0x00])),
    bytes("03 0000000f", Buffer.alloc(15, 0xee)),
    bytes("03 00000010", Buffer.alloc(16, 0xee)),
    bytes("03 00010001", Buffer.alloc(65_537, 0xee)), // a plaintext chunk over 64 KiB
    bytes("03 00010010", Buffer.alloc(65_552, 0xee)), // the largest CHUNK frame
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

  it("[S-END] an encrypted item refused mid-item ends with an empty LAST_CHUNK (not 16 bytes)", async () => {
    const ts = await startServer(resources);
    const meta: ItemMeta = { kind: "file", name: "s.bin", size: 10 };
    // 20 bytes where 10 were declared: refused with SIZE_MISMATCH on its first chunk.
    const item = encryptedItem(ts.masterKey, 1, meta, randomBytes(20), {
      chunkSize: 20,
      lastFlags: [false],
    });
    const next = encryptedItem(
      ts.masterKey,
      2,
      { kind: "file", name: "n.txt", size: 1 },
      Buffer.from("n"),
    );
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        item.itemFrame,
        frame(FrameType.CHUNK, item.chunks[0]!.sealed),
        ...UNREAD,
        bytes("04 00000000"),
        next.itemFrame,
        sealedChunkFrames(next.chunks.map((c) => c.sealed)),
      ]),
    );
    peer.end();
    const answers = await peer.waitAnswers(2);
    await peer.waitClosed();
    expect(readError(answers[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readReceipt(answers[1]!, next.keys)).toMatchObject({
      id: 2,
      body: { savedAs: "n.txt" },
    });
    expect(peer.errors().filter((e) => e.id === undefined)).toEqual([]);
  });

  it("[S-END] an encrypted item refused on arrival (another key): an empty LAST_CHUNK ends it", async () => {
    const ts = await startServer(resources);
    const foreign = encryptedItem(
      randomBytes(32),
      1,
      { kind: "file", name: "f", size: 1 },
      Buffer.from("f"),
    );
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        foreign.itemFrame,
        bytes("04 00000000"),
        plainFileItem(2, "after.txt", Buffer.from("after")),
      ]),
    );
    peer.end();
    const answers = await peer.waitAnswers(2);
    await peer.waitClosed();
    expect(readError(answers[0]!)).toMatchObject({ code: "DECRYPT_FAILED", id: 1 });
    expect(readReceipt(answers[1]!)).toMatchObject({ id: 2, body: { savedAs: "after.txt" } });
  });
});
