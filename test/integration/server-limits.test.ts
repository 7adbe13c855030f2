import { describe, expect, it } from "vitest";
import { toPlainObject } from "../../src/codecs/to-plain-object.js";
import { FrameType } from "../../src/protocol/constants.js";
import {
  RawPeer,
  encryptedItem,
  expectServerHealthy,
  frame,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
  sealedChunkFrames,
  startServer,
  useResources,
} from "./helpers.js";

const resources = useResources();

describe("server limits against hostile clients", () => {
  it("a dictionary sent one byte per CHUNK is stored (each chunk copied, none retained)", async () => {
    const ts = await startServer(resources);
    const bytes = Buffer.from(JSON.stringify({ a: "x".repeat(3000), b: [1, 2, 3] }));
    const peer = await RawPeer.connect(resources, ts.port);
    const chunks = [...bytes].map((byte, i) =>
      frame(i === bytes.length - 1 ? FrameType.LAST_CHUNK : FrameType.CHUNK, Buffer.from([byte])),
    );
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "dict", format: "json", name: "d.json", size: bytes.length }),
        ...chunks,
      ]),
    );
    const [receipt] = await peer.waitAnswers(1);
    expect(readReceipt(receipt!).body.bytes).toBe(bytes.length);
    expect(toPlainObject((await ts.waitItem()).value!)).toEqual(JSON.parse(bytes.toString()));
  });

  it("dictionaries beyond the server-wide budget get an item error BUSY; the budget is returned", async () => {
    const ts = await startServer(resources, { dictBudgetBytes: 100 });
    const holder = await RawPeer.connect(resources, ts.port);
    // Holds 80 bytes of the budget: declared, never finished.
    await holder.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "dict", format: "json", name: "a", size: 80 }),
      ]),
    );
    await holder.hello();
    const second = await RawPeer.connect(resources, ts.port);
    await second.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "dict", format: "json", name: "b", size: 30 }),
        frame(FrameType.LAST_CHUNK, Buffer.alloc(30, 0x20)),
      ]),
    );
    const busy = await second.waitError();
    expect(busy).toMatchObject({ code: "BUSY", id: 1 });
    holder.destroy();
    await ts.waitFailure((failure) => failure.code === "TRUNCATED");
    // With the holder gone its reservation is released and a dictionary fits again.
    await expectServerHealthy(resources, ts);
  });

  it("refuses an empty non-final plaintext CHUNK [F-CHUNK]", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "file", name: "f", size: null }),
        frame(FrameType.CHUNK),
      ]),
    );
    expect(await peer.waitError()).toMatchObject({ code: "MALFORMED_MESSAGE", id: undefined });
    await expectServerHealthy(resources, ts);
  });

  it("refuses a replayed encrypted item with REPLAYED and stores it once", async () => {
    const ts = await startServer(resources);
    const data = Buffer.from("secret payload");
    const item = encryptedItem(
      ts.masterKey,
      1,
      { kind: "file", name: "secret.txt", size: data.length },
      data,
    );
    const recorded = Buffer.concat([
      preamble(),
      item.itemFrame,
      sealedChunkFrames(item.chunks.map((c) => c.sealed)),
    ]);
    const first = await RawPeer.connect(resources, ts.port);
    await first.write(recorded);
    const [receipt] = await first.waitAnswers(1);
    expect(readReceipt(receipt!, item.keys).body.savedAs).toBe("secret.txt");
    const replay = await RawPeer.connect(resources, ts.port);
    await replay.write(recorded);
    expect(await replay.waitError()).toMatchObject({ code: "REPLAYED", id: 1 });
    expect(ts.items).toHaveLength(1);
  });

  it("an encrypted item's error says only its code on the wire, not its sealed metadata", async () => {
    const ts = await startServer(resources);
    const data = Buffer.from("four");
    const item = encryptedItem(
      ts.masterKey,
      1,
      { kind: "file", name: "private-name.txt", size: 3 },
      data,
    );
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        item.itemFrame,
        sealedChunkFrames(item.chunks.map((c) => c.sealed)),
      ]),
    );
    const error = await peer.waitError();
    expect(error.code).toBe("SIZE_MISMATCH");
    expect(error.message).not.toContain("private-name");
    expect(error.message).not.toContain("3");
    // The server's own report keeps the details.
    expect((await ts.waitFailure()).message).toContain("3");
  });

  it("cuts an error message that quotes peer data to the protocol limit [M-ERROR]", async () => {
    const ts = await startServer(resources);
    const xml = Buffer.from(
      `<dict xmlns="urn:gb-transfer:dict:1"><number key="n">${"9".repeat(100_000)}x</number></dict>`,
    );
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "dict", format: "xml", name: "x", size: xml.length }),
        frame(FrameType.CHUNK, xml.subarray(0, 65536)),
        frame(FrameType.LAST_CHUNK, xml.subarray(65536)),
      ]),
    );
    const [answer] = await peer.waitAnswers(1);
    const error = readError(answer!);
    expect(error.code).toBe("DICT_INVALID");
    expect(error.message.length).toBeLessThanOrEqual(4096);
    expect(answer!.payload.length).toBeLessThanOrEqual(16384);
  });
});
