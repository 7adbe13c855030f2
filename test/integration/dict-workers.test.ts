/**
 * [V-DICT-WORK] Dictionaries over the inline threshold are decoded, checked and rendered
 * by a worker thread with a heap limit and a time limit; the event loop keeps serving
 * other connections meanwhile, a dictionary over a worker's limits fails alone with
 * DICT_TOO_LARGE, and the server goes on with a fresh worker. An item's bytes count
 * against the dictionary budget until it is stored.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { encodeDict } from "../../src/codecs/dict-format.js";
import { printableLinesText } from "../../src/codecs/dict-printable.js";
import type { DictObject } from "../../src/codecs/dict-value.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { formatStoredDict } from "../../src/transfer/server/format-stored-dict.js";
import { expectSameDict } from "../codecs/expect-same-dict.js";
import {
  RawPeer,
  WAIT_MS,
  connectClient,
  expectServerHealthy,
  plainDictItem,
  preamble,
  readError,
  readReceipt,
  startServer,
  tempFiles,
  useResources,
  type TestServer,
} from "./helpers.js";

const resources = useResources();

/** Far over the inline threshold (8 KiB), far under the size limit. */
function largeValue(): DictObject {
  const value: DictObject = new Map([["10", "first, though a plain object would move it"]]);
  const list = toDictObject({
    list: Array.from({ length: 5000 }, (_, i) => ({ i, f: i + 0.5, s: `v${i}` })),
  });
  for (const [key, member] of list) value.set(key, member);
  value.set("big", 2n ** 63n + 1n);
  return value;
}

/** A json dictionary whose one integer takes the decoder and the renderer a long while. */
function slowDict(digits: number): Buffer {
  return Buffer.from(`{"n":${"7".repeat(digits)}}`);
}

/** msgpack: one array of `count` empty maps, a byte each; a Map each when decoded. */
function emptyMaps(count: number): Buffer {
  const header = Buffer.from([0x81, 0xa1, 0x61, 0xdd, 0, 0, 0, 0]);
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, Buffer.alloc(count, 0x80)]);
}

async function sendRaw(
  ts: TestServer,
  format: "json" | "msgpack" | "xml",
  bytes: Buffer,
  name = "d",
): Promise<RawPeer> {
  const peer = await RawPeer.connect(resources, ts.port);
  await peer.write(Buffer.concat([preamble(), plainDictItem(1, name, format, bytes)]));
  return peer;
}

describe("[V-DICT-WORK] dictionaries decoded in workers", () => {
  it.each(["json", "msgpack", "xml"] as const)(
    "a large %s dictionary is decoded by a worker, stored as [V-DICT] says and handed over exactly",
    async (format) => {
      const ts = await startServer(resources);
      const value = largeValue();
      const client = await connectClient(resources, ts);
      const sent = await client.sendDict(value, { format, name: "large" });
      expect(sent.bytes).toBeGreaterThan(8 * 1024);
      const item = await ts.waitItem();
      expect(ts.server.dictLoad.started).toBe(1);
      expectSameDict(item.value!, value);
      const stored = await readFile(path.join(ts.saveDir!, sent.receipt.savedAs!));
      expect(stored.equals(formatStoredDict(value, sent.bytes))).toBe(true);
      expect(printableLinesText(item.printable!).slice(0, 2)).toEqual([
        "{",
        '  "10": "first, though a plain object would move it",',
      ]);
      expect(item.printable!.more).toBeGreaterThan(0);
      await vi.waitFor(
        () => {
          expect(ts.server.dictLoad.heldBytes).toBe(0);
        },
        { timeout: WAIT_MS, interval: 10 },
      );
    },
  );

  it("a dictionary whose decoding passes the worker's heap fails with DICT_TOO_LARGE; a fresh worker takes the next", async () => {
    const ts = await startServer(resources, { dictWorkerHeapMb: 16 });
    const peer = await sendRaw(ts, "msgpack", emptyMaps(900_000));
    const error = readError((await peer.waitAnswers(1, 30_000))[0]!);
    expect(error).toMatchObject({ code: "DICT_TOO_LARGE", id: 1 });
    expect(ts.server.dictLoad.overLimit).toBe(1);
    const client = await connectClient(resources, ts);
    const value = largeValue();
    const sent = await client.sendDict(value, { format: "json" });
    expect(sent.receipt.savedAs).not.toBeNull();
    expect(ts.server.dictLoad.started).toBe(2);
    await expectServerHealthy(resources, ts);
  });

  it("a dictionary that takes longer than the time limit fails with DICT_TOO_LARGE and leaves no file", async () => {
    const ts = await startServer(resources, { dictTimeoutMs: 50 });
    const peer = await sendRaw(ts, "json", slowDict(2_000_000));
    const error = readError((await peer.waitAnswers(1, 30_000))[0]!);
    expect(error).toMatchObject({ code: "DICT_TOO_LARGE", id: 1 });
    expect(ts.server.dictLoad.overLimit).toBe(1);
    await expectServerHealthy(resources, ts);
    expect(await tempFiles(ts.saveDir!)).toEqual([]);
  });

  it("while a worker decodes a slow dictionary, a small one on another connection is answered at once", async () => {
    const ts = await startServer(resources);
    const slow = await sendRaw(ts, "json", slowDict(2_000_000), "slow");
    // The slow dictionary is with the worker once its bytes are held and nothing waits.
    await vi.waitFor(
      () => {
        const load = ts.server.dictLoad;
        expect(load.workers).toBe(1);
        expect(load.queued).toBe(0);
        expect(load.heldBytes).toBeGreaterThan(0);
      },
      { timeout: WAIT_MS, interval: 5 },
    );
    const client = await connectClient(resources, ts);
    const small = await client.sendDict({ small: true }, { format: "json", name: "small" });
    expect(small.receipt.savedAs).toBe("small.json");
    // The slow one is still being worked on: the small one did not wait for it.
    expect(ts.items.map((item) => item.name)).toEqual(["small"]);
    expect(ts.server.dictLoad.heldBytes).toBeGreaterThan(0);
    const [answer] = await slow.waitAnswers(1, 30_000);
    expect(readReceipt(answer!).body.savedAs).toBe("slow.json");
    expect(ts.server.dictLoad.heldBytes).toBe(0);
  });

  it("a dictionary's bytes count against the budget until it is stored: another is BUSY meanwhile", async () => {
    const slowBytes = slowDict(2_000_000);
    const ts = await startServer(resources, { dictBudgetBytes: slowBytes.length + 1000 });
    const slow = await sendRaw(ts, "json", slowBytes, "slow");
    await vi.waitFor(
      () => {
        expect(ts.server.dictLoad.heldBytes).toBe(slowBytes.length);
      },
      { timeout: WAIT_MS, interval: 5 },
    );
    const other = await sendRaw(ts, "json", Buffer.from(`{"pad":"${"x".repeat(2000)}"}`));
    expect(readError((await other.waitAnswers(1))[0]!)).toMatchObject({ code: "BUSY", id: 1 });
    expect(readReceipt((await slow.waitAnswers(1, 30_000))[0]!).body.savedAs).toBe("slow.json");
    expect(ts.server.dictLoad.heldBytes).toBe(0);
  });

  it("the printable form is small whatever the dictionary", async () => {
    const ts = await startServer(resources, { save: false, dictValues: false });
    const bytes = encodeDict(
      { list: Array.from({ length: 100_000 }, (_, i) => i), s: "y".repeat(100_000) },
      "msgpack",
    );
    const peer = await sendRaw(ts, "msgpack", Buffer.from(bytes));
    readReceipt((await peer.waitAnswers(1, 30_000))[0]!);
    const item = await ts.waitItem();
    expect(item.value).toBeUndefined();
    expect(item.jsonText).toBeUndefined();
    expect(item.printable!.lines).toHaveLength(200);
    expect(item.printable!.moreIsLowerBound).toBe(true);
  });

  it("[C-XML-ATTRS] [C-XML-NS] XML bombs just under 16 MiB are refused as invalid, within a small worker heap", async () => {
    const ts = await startServer(resources, { dictWorkerHeapMb: 48 });
    const ns = "urn:gb-transfer:dict:1";
    const count = Math.floor((16 * 1024 * 1024 - 200) / 16);
    const attributes = Array.from(
      { length: count },
      (_, i) => ` a${i.toString(36).padStart(6, "0")}="x"`,
    ).join("");
    const declarations = Array.from({ length: 570_000 }, (_, i) => ` xmlns:p${i}="u"`).join("");
    for (const bomb of [
      `<dict xmlns="${ns}"${attributes}/>`,
      `<dict xmlns="${ns}"${declarations}/>`,
    ]) {
      const peer = await sendRaw(ts, "xml", Buffer.from(bomb));
      expect(readError((await peer.waitAnswers(1, 30_000))[0]!)).toMatchObject({
        code: "DICT_INVALID",
        id: 1,
      });
    }
    expect(ts.server.dictLoad.overLimit).toBe(0);
  });
});
