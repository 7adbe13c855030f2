/**
 * [F-SEALED-MIN] In an encrypted item being received, a CHUNK under 17 bytes and a
 * LAST_CHUNK under 16 bytes fail the item with DECRYPT_FAILED without being opened; the
 * connection goes on. Frames are written as literal bytes.
 */
import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { gcmDecrypt } from "../../src/crypto/aes-gcm.js";
import { FrameType } from "../../src/protocol/constants.js";
import { referenceSeal } from "../crypto/chunk-helpers.js";
import {
  RawPeer,
  encryptedItem,
  expectServerHealthy,
  preamble,
  readError,
  readReceipt,
  sealedChunkFrames,
  startServer,
  useResources,
  type EncryptedItem,
  type TestServer,
} from "./helpers.js";

// Counts decryptions, to show that a short chunk is refused before any is attempted.
vi.mock("../../src/crypto/aes-gcm.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/crypto/aes-gcm.js")>();
  return { ...actual, gcmDecrypt: vi.fn(actual.gcmDecrypt) };
});

const resources = useResources();
let ts: TestServer;

beforeEach(async () => {
  ts = await startServer(resources);
});

/** Literal bytes: a frame header in hex, then its payload. */
function bytes(hex: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from(hex.replace(/ /g, ""), "hex"), payload]);
}

/** An encrypted file item 1 of unknown size; its chunks are written by each test. */
function item1(): EncryptedItem {
  return encryptedItem(
    ts.masterKey,
    1,
    { kind: "file", name: "s.bin", size: null },
    Buffer.from("x"),
  );
}

/**
 * Sends item 1's ITEM frame, then `frames`, then a valid encrypted item 2; expects item 1
 * to fail with DECRYPT_FAILED having decrypted only its metadata, and item 2 to be stored.
 */
async function expectRefusedUnopened(
  item: EncryptedItem,
  frames: readonly Buffer[],
): Promise<void> {
  const next = encryptedItem(
    ts.masterKey,
    2,
    { kind: "file", name: "n.txt", size: 1 },
    Buffer.from("n"),
  );
  const peer = await RawPeer.connect(resources, ts.port);
  const decryptions = vi.mocked(gcmDecrypt).mock.calls.length;
  await peer.write(Buffer.concat([preamble(), item.itemFrame, ...frames]));
  const [answer] = await peer.waitAnswers(1);
  expect(readError(answer!)).toMatchObject({ code: "DECRYPT_FAILED", id: 1 });
  // One decryption: the sealed metadata's. The short chunk was never opened.
  expect(vi.mocked(gcmDecrypt).mock.calls.length - decryptions).toBe(1);
  await peer.write(
    Buffer.concat([next.itemFrame, sealedChunkFrames(next.chunks.map((c) => c.sealed))]),
  );
  peer.end();
  const answers = await peer.waitAnswers(2);
  await peer.waitClosed();
  expect(readReceipt(answers[1]!, next.keys)).toMatchObject({ id: 2, body: { savedAs: "n.txt" } });
  expect(peer.errors().filter((e) => e.id === undefined)).toEqual([]);
  expect(ts.failures).toEqual([expect.objectContaining({ code: "DECRYPT_FAILED", id: 1 })]);
  expect(ts.items.map((i) => i.name)).toEqual(["n.txt"]);
}

describe("[F-SEALED-MIN] a short sealed CHUNK fails the item; the rest is discarded", () => {
  for (const length of [0, 1, 15]) {
    it(`[F-SEALED-MIN] a CHUNK of ${length} bytes: DECRYPT_FAILED, then an empty LAST_CHUNK ends it`, async () => {
      const header = `03 ${length.toString(16).padStart(8, "0")}`;
      await expectRefusedUnopened(item1(), [
        bytes(header, randomBytes(length)),
        bytes("04 00000000"),
      ]);
    });
  }

  it("[F-SEALED-MIN] a CHUNK of 16 bytes (an empty sealed chunk that would authenticate): DECRYPT_FAILED", async () => {
    const item = item1();
    const emptyNonFinal = referenceSeal(item.keys, 0, false, Buffer.alloc(0));
    expect(emptyNonFinal).toHaveLength(16);
    await expectRefusedUnopened(item, [bytes("03 00000010", emptyNonFinal), bytes("04 00000000")]);
  });
});

describe("[F-SEALED-MIN] a short sealed LAST_CHUNK fails the item and ends it", () => {
  for (const length of [0, 1, 15]) {
    it(`[F-SEALED-MIN] a LAST_CHUNK of ${length} bytes: DECRYPT_FAILED, the next item follows at once`, async () => {
      const header = `04 ${length.toString(16).padStart(8, "0")}`;
      await expectRefusedUnopened(item1(), [bytes(header, randomBytes(length))]);
    });
  }
});

describe("[F-SEALED-MIN] the minimums themselves are accepted", () => {
  it("[F-SEALED-MIN] a 17-byte CHUNK and a 16-byte LAST_CHUNK make a one-byte item", async () => {
    const item = item1();
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        item.itemFrame,
        bytes("03 00000011", referenceSeal(item.keys, 0, false, Buffer.from("x"))),
        bytes("04 00000010", referenceSeal(item.keys, 1, true, Buffer.alloc(0))),
      ]),
    );
    peer.end();
    const [answer] = await peer.waitAnswers(1);
    expect(readReceipt(answer!, item.keys).body).toMatchObject({ bytes: 1, savedAs: "s.bin" });
    expect(peer.frames.at(-1)!.type).toBe(FrameType.RECEIPT);
    await peer.waitClosed();
    await expectServerHealthy(resources, ts);
  });
});
