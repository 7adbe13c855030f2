/**
 * Items are validated, measured and encoded once, before connecting (the prepare*
 * functions), then sent as they are by GbClient.send.
 */
import { appendFile, copyFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { decodeDict } from "../../src/codecs/dict-format.js";
import { CodecError } from "../../src/errors.js";
import { GbClient } from "../../src/transfer/client.js";
import {
  prepareDict,
  prepareDictInput,
  prepareFile,
  prepareStream,
} from "../../src/transfer/client/prepared-item.js";
import { DictInputError } from "../../src/transfer/inputs/dict-input-error.js";
import { InputFileError } from "../../src/transfer/inputs/input-file-error.js";
import {
  closeFakeServers,
  fakeServer,
  storingScript,
  WAIT_MS,
  type Peer,
} from "../support/fake-server.js";
import { SAMPLE_DICT, SAMPLE_TEXT, SAMPLES } from "../support/samples.js";
import { TempDirs } from "../support/temp-dirs.js";
import { withTimeout } from "../support/with-timeout.js";

const temp = new TempDirs();

afterEach(async () => {
  await closeFakeServers();
  await temp.removeAll();
});

function text(bytes: Uint8Array | string): string {
  return typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8");
}

describe("prepareDict", () => {
  it("serializes now: later changes to the value are not sent", () => {
    const value = { a: 1, list: [1, 2] };
    const prepared = prepareDict(value, { format: "json" });
    value.a = 2;
    value.list.push(3);
    expect(text(prepared.payload)).toBe('{"a":1,"list":[1,2]}');
    expect(prepared.meta).toEqual({
      kind: "dict",
      format: "json",
      name: "dictionary.json",
      size: 20,
    });
  });

  it("measures in bytes, not characters, and encodes the other formats to bytes", () => {
    expect(prepareDict({ é: "中" }, { format: "json", name: "n" }).meta.size).toBe(
      Buffer.byteLength('{"é":"中"}'),
    );
    const packed = prepareDict({ a: 1 }, { format: "msgpack" });
    expect(packed.payload).toBeInstanceOf(Uint8Array);
    expect(decodeDict(packed.payload as Uint8Array, "msgpack")).toEqual(new Map([["a", 1n]]));
    expect(packed.meta.size).toBe((packed.payload as Uint8Array).length);
  });

  it("refuses what cannot be a dictionary with a CodecError", () => {
    expect(() => prepareDict({ n: Number.NaN }, { format: "json" })).toThrow(CodecError);
  });
});

describe("prepareFile", () => {
  it("takes the file's size and base name once", async () => {
    const prepared = await prepareFile(SAMPLE_TEXT);
    expect(prepared).toEqual({
      origin: "path",
      meta: { kind: "file", name: "notes.txt", size: 319 },
      path: SAMPLE_TEXT,
    });
    expect((await prepareFile(SAMPLE_TEXT, { name: "other.txt" })).meta.name).toBe("other.txt");
  });

  it("a missing file: InputFileError, reason missing, kind file", async () => {
    const missing = path.join(SAMPLES, "nope.txt");
    const error: unknown = await prepareFile(missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputFileError);
    expect(error).toMatchObject({
      code: "INPUT_UNREADABLE",
      path: missing,
      reason: "missing",
      kind: "file",
    });
    // A path through a file (ENOTDIR) is missing as well.
    await expect(prepareFile(path.join(SAMPLE_TEXT, "x"))).rejects.toMatchObject({
      reason: "missing",
    });
  });

  it("a directory: InputFileError, reason not-a-file", async () => {
    await expect(prepareFile(SAMPLES)).rejects.toMatchObject({
      code: "INPUT_UNREADABLE",
      reason: "not-a-file",
      kind: "file",
      path: SAMPLES,
    });
  });
});

describe("prepareDictInput", () => {
  it("reads, checks and encodes a dictionary file, named after the file", async () => {
    const prepared = await prepareDictInput({ path: SAMPLE_DICT }, "xml");
    expect(prepared.meta).toMatchObject({ kind: "dict", format: "xml", name: "data.json" });
    expect(text(prepared.payload)).toMatch(/^<\?xml /);
  });

  it("reads standard input, named stdin.json", async () => {
    const stdin = Readable.from([Buffer.from('{"from":'), Buffer.from('"stdin"}')]);
    const prepared = await prepareDictInput({ stdin }, "json");
    expect(prepared.meta.name).toBe("stdin.json");
    expect(text(prepared.payload)).toBe('{"from":"stdin"}');
  });

  it("text that is not JSON: DictInputError naming the input as given, with the line and column", async () => {
    const stdin = Readable.from([Buffer.from('{"a": 1,\n  "b": nope}')]);
    const error: unknown = await prepareDictInput({ stdin }, "json").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DictInputError);
    expect(error).toMatchObject({
      code: "DICT_INVALID",
      input: "-",
      position: { line: 2, column: 8 },
      lineText: '  "b": nope}',
    });

    const file = path.join(await temp.make("gb-prepare-"), "bad.json");
    await writeFile(file, "not json");
    await expect(prepareDictInput({ path: file }, "json")).rejects.toMatchObject({
      code: "DICT_INVALID",
      input: file,
    });
  });

  it("JSON that is not an object: DICT_INVALID at the top level's place", async () => {
    const error: unknown = await prepareDictInput(
      { stdin: Readable.from([Buffer.from("[1, 2]")]) },
      "json",
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodecError);
    expect(error).toMatchObject({ code: "DICT_INVALID", position: { line: 1, column: 1 } });
  });

  it("standard input that fails: InputError INPUT_UNREADABLE, no path to blame", async () => {
    const stdin = new Readable({
      read() {
        this.destroy(new Error("EIO: i/o error"));
      },
    });
    const error: unknown = await prepareDictInput({ stdin }, "json").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INPUT_UNREADABLE" });
    expect(error).not.toBeInstanceOf(InputFileError);
  });

  it("a missing file: InputFileError, kind dict", async () => {
    const missing = path.join(await temp.make("gb-prepare-"), "nope.json");
    await expect(prepareDictInput({ path: missing }, "json")).rejects.toMatchObject({
      code: "INPUT_UNREADABLE",
      reason: "missing",
      kind: "dict",
      path: missing,
    });
  });
});

describe("GbClient.send(prepared)", () => {
  async function connect(script: (peer: Peer) => void = storingScript) {
    const peers: Peer[] = [];
    const port = await fakeServer((peer) => {
      peers.push(peer);
      script(peer);
    });
    return { client: await GbClient.connect({ host: "127.0.0.1", port }), peers };
  }

  it("a prepared dictionary can be sent as often as wanted", async () => {
    const { client } = await connect();
    const prepared = prepareDict({ again: true }, { format: "msgpack", name: "again" });
    const [first, second] = await withTimeout(
      Promise.all([client.send(prepared), client.send(prepared)]),
      WAIT_MS,
      "both receipts",
    );
    expect(first.sha256).toBe(second.sha256);
    expect([first.id, second.id]).toEqual([1, 2]);
    await client.close();
  });

  it("a prepared file is not measured again: it declares the size it was prepared with", async () => {
    const file = path.join(await temp.make("gb-prepare-"), "growing.txt");
    await copyFile(SAMPLE_TEXT, file);
    const prepared = await prepareFile(file);
    await appendFile(file, "more\n");
    const { client, peers } = await connect();
    const sent = await withTimeout(client.send(prepared), WAIT_MS, "the receipt");
    expect(peers[0]!.items[0]!.meta).toEqual({ kind: "file", name: "growing.txt", size: 319 });
    // What went out is what was read, at most one byte over the size prepared (enough for
    // the server to see the change); the server (here, a fake) checks it against the size.
    expect(sent.bytes).toBe(320);
    await client.close();
  });

  it("a prepared file that vanished fails alone, before its ITEM, and takes no wire id", async () => {
    const dir = await temp.make("gb-prepare-");
    const file = path.join(dir, "vanishing.txt");
    await copyFile(SAMPLE_TEXT, file);
    const prepared = await prepareFile(file);
    await unlink(file);
    const { client, peers } = await connect();
    const failed = client.send(prepared);
    const stored = client.send(prepareDict({ a: 1 }, { format: "json" }));
    await expect(withTimeout(failed, WAIT_MS, "the failure")).rejects.toMatchObject({
      code: "INPUT_UNREADABLE",
      reason: "missing",
      path: file,
    });
    await expect(withTimeout(stored, WAIT_MS, "the receipt")).resolves.toMatchObject({ id: 1 });
    expect(peers[0]!.items.map((item) => item.meta.kind)).toEqual(["dict"]);
    await client.close();
  });

  it("encryption asked for without a key: KEY_MISSING at once, and a stream source is closed", async () => {
    const { client } = await connect();
    const source = new PassThrough();
    await expect(
      client.send(prepareStream(source, { name: "s", size: null }), { encrypt: true }),
    ).rejects.toMatchObject({ code: "KEY_MISSING" });
    expect(source.destroyed).toBe(true);
    await client.close();
  });
});

describe("item names", () => {
  it("[K-NAME] a name over 1024 UTF-8 bytes is cut at a code point within the limit", () => {
    const long = "é".repeat(600); // 1200 bytes
    const prepared = prepareDict({ a: 1 }, { format: "json", name: long });
    expect(prepared.meta.name).toBe("é".repeat(512));
    expect(Buffer.byteLength(prepared.meta.name)).toBe(1024);
    const odd = `${"a".repeat(1023)}é`;
    expect(prepareDict({ a: 1 }, { format: "json", name: odd }).meta.name).toBe("a".repeat(1023));
    const fits = "n".repeat(1024);
    expect(prepareDict({ a: 1 }, { format: "json", name: fits }).meta.name).toBe(fits);
  });
});
