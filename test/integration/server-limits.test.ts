import { describe, expect, it } from "vitest";
import { toPlainObject } from "../../src/codecs/to-plain-object.js";
import { FrameType } from "../../src/protocol/constants.js";
import {
  RawPeer,
  expectServerHealthy,
  frame,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
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

  it("[M-ERROR] in an encrypted session an item's ERROR carries its full message (it travels in a record)", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.session(resources, ts.port, ts.masterKey);
    await peer.send(
      Buffer.concat([
        plainItemFrame(1, { kind: "file", name: "private-name.txt", size: 3 }),
        frame(FrameType.LAST_CHUNK, Buffer.from("four")),
      ]),
    );
    const error = await peer.waitError();
    expect(error).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(error.message).toContain("3");
    expect(peer.recordError).toBeUndefined();
    expect((await ts.waitFailure()).message).toBe(error.message);
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
