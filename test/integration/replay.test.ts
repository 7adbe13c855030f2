/**
 * [E-REPLAY] Which salts a server remembers: every encrypted item whose sealed metadata
 * authenticated, accepted or not; none whose metadata did not.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEFAULT_DICT_LIMITS } from "../../src/codecs/limits.js";
import { deriveItemKeys } from "../../src/crypto/item-keys.js";
import { sealOnce } from "../../src/crypto/seal-once.js";
import { FrameType } from "../../src/protocol/constants.js";
import { itemHeaderText, type ItemMeta } from "../../src/protocol/messages.js";
import {
  RawPeer,
  encryptedItem,
  expectServerHealthy,
  frame,
  preamble,
  readError,
  readReceipt,
  sealedChunkFrames,
  startServer,
  storedFiles,
  useResources,
  type TestServer,
} from "./helpers.js";

const resources = useResources();

/** Sends `recorded` on a new connection, half-closes, and returns the server's answers. */
async function send(ts: TestServer, recorded: Buffer, answers = 1) {
  const peer = await RawPeer.connect(resources, ts.port);
  await peer.write(recorded);
  peer.end();
  const frames = await peer.waitAnswers(answers);
  await peer.waitClosed();
  expect(peer.errors().filter((e) => e.id === undefined)).toEqual([]);
  return frames;
}

/** A whole encrypted item (id 1) as a client puts it on the wire, after the preamble. */
function recording(item: ReturnType<typeof encryptedItem>): Buffer {
  return Buffer.concat([
    preamble(),
    item.itemFrame,
    sealedChunkFrames(item.chunks.map((c) => c.sealed)),
  ]);
}

describe("[E-REPLAY] salts are remembered once the sealed metadata authenticated", () => {
  it("[E-REPLAY] an item refused with DICT_TOO_LARGE, then replayed, is REPLAYED", async () => {
    const ts = await startServer(resources, {
      dictLimits: { ...DEFAULT_DICT_LIMITS, maxBytes: 8 },
    });
    const data = Buffer.from('{"too":"large"}');
    const meta: ItemMeta = { kind: "dict", format: "json", name: "d.json", size: data.length };
    const recorded = recording(encryptedItem(ts.masterKey, 1, meta, data));
    const [first] = await send(ts, recorded);
    expect(readError(first!)).toMatchObject({ code: "DICT_TOO_LARGE", id: 1 });
    const [replay] = await send(ts, recorded);
    expect(readError(replay!)).toMatchObject({ code: "REPLAYED", id: 1 });
    expect(ts.failures.map((f) => [f.id, f.code])).toEqual([
      [1, "DICT_TOO_LARGE"],
      [1, "REPLAYED"],
    ]);
  });

  it("[E-REPLAY] an item refused BUSY is REPLAYED when replayed after the budget is free", async () => {
    const ts = await startServer(resources, { dictBudgetBytes: 10 });
    const data = Buffer.from('{"busy":"yes, at first"}');
    const meta: ItemMeta = { kind: "dict", format: "json", name: "b.json", size: data.length };
    const recorded = recording(encryptedItem(ts.masterKey, 1, meta, data));
    const [first] = await send(ts, recorded);
    expect(readError(first!)).toMatchObject({ code: "BUSY", id: 1 });
    // Nothing holds the budget now, yet the recorded item is not stored after all.
    const [replay] = await send(ts, recorded);
    expect(readError(replay!)).toMatchObject({ code: "REPLAYED", id: 1 });
    expect(ts.items).toEqual([]);
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
  });

  it("[E-REPLAY] authentic sealed metadata that is malformed uses up its salt", async () => {
    const ts = await startServer(resources);
    const salt = randomBytes(16);
    const keys = deriveItemKeys(ts.masterKey, salt);
    const header = Buffer.from(
      itemHeaderText({
        id: 1,
        encrypted: true,
        salt,
        sealedMeta: sealOnce(keys.metaKey, Buffer.from('{"kind":"file"}')),
      }),
    );
    const recorded = Buffer.concat([
      preamble(),
      frame(FrameType.ITEM, header),
      frame(FrameType.LAST_CHUNK),
    ]);
    const [first] = await send(ts, recorded);
    expect(readError(first!)).toMatchObject({ code: "MALFORMED_MESSAGE", id: 1 });
    const [replay] = await send(ts, recorded);
    expect(readError(replay!)).toMatchObject({ code: "REPLAYED", id: 1 });
  });

  it("[E-REPLAY] a replay of a stored item is REPLAYED even on the connection that stored it", async () => {
    const ts = await startServer(resources);
    const data = Buffer.from("once");
    const salt = randomBytes(16);
    const meta: ItemMeta = { kind: "file", name: "once.txt", size: data.length };
    const item1 = encryptedItem(ts.masterKey, 1, meta, data, { salt });
    const item2 = encryptedItem(ts.masterKey, 2, meta, data, { salt });
    const [stored, replay] = await send(
      ts,
      Buffer.concat([
        recording(item1),
        item2.itemFrame,
        sealedChunkFrames([item2.chunks[0]!.sealed]),
      ]),
      2,
    );
    expect(readReceipt(stored!, item1.keys).body.savedAs).toBe("once.txt");
    expect(readError(replay!)).toMatchObject({ code: "REPLAYED", id: 2 });
    expect(await storedFiles(ts.saveDir!)).toEqual(["once.txt"]);
  });

  it("[E-REPLAY] a salt whose metadata did not authenticate is not remembered", async () => {
    const ts = await startServer(resources);
    const salt = randomBytes(16);
    const data = Buffer.from("mine");
    const meta: ItemMeta = { kind: "file", name: "mine.txt", size: data.length };
    // Someone without the key sends an item under this salt first...
    const forged = encryptedItem(randomBytes(32), 1, meta, data, { salt });
    const [refused] = await send(ts, recording(forged));
    expect(readError(refused!)).toMatchObject({ code: "DECRYPT_FAILED", id: 1 });
    // ...and cannot make the server refuse the real item under it.
    const real = encryptedItem(ts.masterKey, 1, meta, data, { salt });
    const [stored] = await send(ts, recording(real));
    expect(readReceipt(stored!, real.keys).body).toMatchObject({ savedAs: "mine.txt", bytes: 4 });
    await expectServerHealthy(resources, ts);
  });
});
