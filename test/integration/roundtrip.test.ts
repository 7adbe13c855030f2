/**
 * Round trips through GbClient against a real GbServer: dictionaries in every format and
 * files of edge-case sizes, in the clear and encrypted, plus streams of unknown size.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/codecs/json-value.js";
import { toPlainObject } from "../../src/codecs/to-plain-object.js";
import { send } from "../../src/transfer/send.js";
import {
  HOST,
  connectClient,
  expectNoTempFiles,
  expectServerHealthy,
  makeTempDir,
  sha256,
  startServer,
  storedFiles,
  tempFiles,
  useResources,
  type TestServer,
} from "./helpers.js";

const resources = useResources();

const FORMATS = ["json", "msgpack", "xml"] as const;

/** A client's options: encrypted (a Noise session with the server's key) or plain. */
function sessionOptions(ts: TestServer, encrypt: boolean) {
  return encrypt ? { encryption: { key: ts.masterKey } } : {};
}

/** A dictionary exercising every JSON type, Unicode, odd keys and deep-ish nesting. */
function sampleDict(): JsonObject {
  return {
    text: "héllo wörld 🌍 \u0000 \t \n \u2028 <tag> & \"quotes\" 'single'",
    integer: 42,
    negative: -7,
    float: 3.141592653589793,
    maxSafe: 2 ** 53 - 1,
    tiny: 5e-324,
    huge: 1e300,
    yes: true,
    no: false,
    nothing: null,
    list: [1, "two", [3, { four: 4 }], null, false, -0.5],
    nested: { a: { b: { c: [] as JsonObject[] } }, empty: {} },
    "": "empty key",
    'key with <xml> & "json" chars': "x",
    ключ: ["unicode", "key"],
  };
}

async function expectStoredDict(
  ts: TestServer,
  savedAs: string | null,
  value: JsonObject,
): Promise<void> {
  expect(savedAs).not.toBeNull();
  const text = await readFile(path.join(ts.saveDir!, savedAs!), "utf8");
  // Pretty-printed JSON, as documented in [V-NAME].
  expect(text).toBe(`${JSON.stringify(value, null, 2)}\n`);
  const parsed = JSON.parse(text) as unknown;
  expect(JSON.stringify(parsed)).toBe(JSON.stringify(value));
  expect(parsed).toEqual(value);
}

/** SHA-256 (hex) of a stored file, as `sha256sum` prints it. */
async function sha256OfStored(ts: TestServer, savedAs: string | null): Promise<string> {
  return sha256(await readFile(path.join(ts.saveDir!, savedAs!)));
}

describe("dictionary round trips", () => {
  for (const encrypt of [false, true]) {
    for (const format of FORMATS) {
      it(`${format}${encrypt ? ", encrypted" : ""}`, async () => {
        const ts = await startServer(resources);
        const client = await connectClient(resources, ts, sessionOptions(ts, encrypt));
        const value = sampleDict();
        const sent = await client.sendDict(value, {
          format,
          name: `sample-${format}.dat`,
          encrypt,
        });
        await client.close();

        expect(sent.encrypted).toBe(encrypt);
        expect(sent.receipt).toEqual({
          kind: "dict",
          name: `sample-${format}.dat`,
          bytes: sent.bytes,
          sha256: sent.sha256,
          savedAs: `sample-${format}.json`,
          storedSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        });

        const item = await ts.waitItem();
        expect(item.kind).toBe("dict");
        expect(item.format).toBe(format);
        expect(item.encrypted).toBe(encrypt);
        // [H-FINGERPRINT] both sides show the same session.
        expect(item.session).toEqual(client.session);
        expect(item.session.fingerprint === null).toBe(!encrypt);
        expect(item.bytes).toBe(sent.bytes);
        expect(item.sha256).toBe(sent.sha256);
        const received = toPlainObject(item.value!);
        expect(JSON.stringify(received)).toBe(JSON.stringify(value));
        expect(received).toEqual(value);
        expect(item.savedAs).toBe(`sample-${format}.json`);
        expect(item.savedPath).toBe(path.join(ts.saveDir!, `sample-${format}.json`));
        await expectStoredDict(ts, item.savedAs, value);
        expect(sent.receipt.storedSha256).toBe(await sha256OfStored(ts, item.savedAs));
        expect(ts.failures).toEqual([]);
      });
    }
  }

  // A dictionary over the inline threshold is decoded and written by a worker [V-DICT-WORK],
  // which hashes what it writes.
  for (const format of FORMATS) {
    it(`[M-RECEIPT-STORED] ${format}, decoded by a worker: storedSha256 is the stored file's`, async () => {
      const ts = await startServer(resources);
      const client = await connectClient(resources, ts);
      const value: JsonObject = {};
      for (let i = 0; i < 2000; i++) value[`key-${i}`] = `value ${i} ${"x".repeat(i % 17)}`;
      const sent = await client.sendDict(value, { format, name: `large-${format}.dat` });
      await client.close();
      expect(sent.bytes).toBeGreaterThan(32 * 1024);
      const item = await ts.waitItem();
      await expectStoredDict(ts, item.savedAs, value);
      expect(sent.receipt.storedSha256).toBe(await sha256OfStored(ts, item.savedAs));
    });
  }

  it("keys such as __proto__ and constructor are ordinary keys end to end", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const value = JSON.parse(
      '{"__proto__":{"polluted":true},"constructor":"c","prototype":1}',
    ) as JsonObject;
    for (const format of FORMATS) {
      await client.sendDict(value, { format, name: `proto-${format}` });
    }
    await client.close();
    expect(ts.items).toHaveLength(3);
    for (const item of ts.items) {
      const received = toPlainObject(item.value!);
      expect(JSON.stringify(received)).toBe(JSON.stringify(value));
      expect(Object.getPrototypeOf(received)).toBe(Object.prototype);
      const text = await readFile(item.savedPath!, "utf8");
      expect(text).toBe(`${JSON.stringify(value, null, 2)}\n`);
    }
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

const FILE_SIZES: readonly [string, number][] = [
  ["empty", 0],
  ["1 byte", 1],
  ["65535 bytes", 65_535],
  ["65536 bytes", 65_536],
  ["65537 bytes", 65_537],
  ["3 MiB", 3 * 1024 * 1024],
];

describe("file round trips", () => {
  for (const encrypt of [false, true]) {
    for (const [label, size] of FILE_SIZES) {
      it(`${label}${encrypt ? ", encrypted" : ""}`, async () => {
        const ts = await startServer(resources);
        const sourceDir = await makeTempDir(resources);
        const data = randomBytes(size);
        const sourcePath = path.join(sourceDir, "source.bin");
        await writeFile(sourcePath, data);
        const expectedSha = sha256(data);

        const client = await connectClient(resources, ts, sessionOptions(ts, encrypt));
        const progress: number[] = [];
        const sent = await client.sendFile(sourcePath, {
          encrypt,
          onProgress: (n) => progress.push(n),
        });
        await client.close();

        expect(sent).toMatchObject({ kind: "file", name: "source.bin", encrypted: encrypt });
        expect(sent.bytes).toBe(size);
        expect(sent.sha256).toBe(expectedSha);
        expect(sent.receipt).toEqual({
          kind: "file",
          name: "source.bin",
          bytes: size,
          sha256: expectedSha,
          savedAs: "source.bin",
        });
        expect(progress.at(-1)).toBe(size);

        const item = await ts.waitItem();
        expect(item).toMatchObject({
          kind: "file",
          encrypted: encrypt,
          bytes: size,
          sha256: expectedSha,
        });
        expect(item.format).toBeUndefined();
        expect(item.value).toBeUndefined();
        expect(item.preview).toEqual(data.subarray(0, 4096));
        const saved = await readFile(path.join(ts.saveDir!, "source.bin"));
        expect(saved.length).toBe(size);
        expect(saved.equals(data)).toBe(true);
        expect(await tempFiles(ts.saveDir!)).toEqual([]);
        expect(ts.failures).toEqual([]);
      });
    }
  }
});

/** Yields the given sizes of random bytes, each as its own chunk. */
function oddChunks(sizes: readonly number[]): { source: Readable; data: Buffer } {
  const pieces = sizes.map((n) => randomBytes(n));
  return { source: Readable.from(pieces), data: Buffer.concat(pieces) };
}

const ODD_SIZES = [1, 7, 0, 65_537, 100_001, 3, 131_072, 65_535, 65_536, 2, 200_000, 0, 5];

describe("sendStream", () => {
  for (const encrypt of [false, true]) {
    it(`unknown size (null), odd-sized chunks including > 64 KiB${encrypt ? ", encrypted" : ""}`, async () => {
      const ts = await startServer(resources);
      const client = await connectClient(resources, ts, sessionOptions(ts, encrypt));
      const { source, data } = oddChunks(ODD_SIZES);
      const sent = await client.sendStream(source, { name: "stdin.bin", size: null, encrypt });
      await client.close();
      expect(sent.bytes).toBe(data.length);
      expect(sent.sha256).toBe(sha256(data));
      expect(sent.receipt).toMatchObject({
        bytes: data.length,
        sha256: sha256(data),
        savedAs: "stdin.bin",
      });
      const saved = await readFile(path.join(ts.saveDir!, "stdin.bin"));
      expect(saved.equals(data)).toBe(true);
    });
  }

  it("an empty stream of unknown size is stored as an empty file", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const sent = await client.sendStream(Readable.from([] as Buffer[]), {
      name: "nothing",
      size: null,
    });
    await client.close();
    expect(sent.receipt).toMatchObject({
      bytes: 0,
      sha256: sha256(Buffer.alloc(0)),
      savedAs: "nothing",
    });
    expect((await readFile(path.join(ts.saveDir!, "nothing"))).length).toBe(0);
  });

  it("a declared size that is too small or too large fails that item with SIZE_MISMATCH only", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const tooMany = client.sendStream(Readable.from([Buffer.alloc(11, 1)]), {
      name: "more.bin",
      size: 10,
    });
    const tooFew = client.sendStream(Readable.from([Buffer.alloc(5, 2)]), {
      name: "fewer.bin",
      size: 10,
    });
    const bigTooMany = client.sendStream(Readable.from([randomBytes(200_000)]), {
      name: "big.bin",
      size: 70_000,
    });
    const fine = client.sendStream(Readable.from([Buffer.from("0123456789")]), {
      name: "fine.bin",
      size: 10,
    });
    await expect(tooMany).rejects.toMatchObject({ code: "SIZE_MISMATCH", itemId: 1 });
    await expect(tooFew).rejects.toMatchObject({ code: "SIZE_MISMATCH", itemId: 2 });
    await expect(bigTooMany).rejects.toMatchObject({ code: "SIZE_MISMATCH", itemId: 3 });
    await expect(fine).resolves.toMatchObject({ receipt: { savedAs: "fine.bin", bytes: 10 } });
    await client.close();
    expect(await storedFiles(ts.saveDir!)).toEqual(["fine.bin"]);
    expect(await tempFiles(ts.saveDir!)).toEqual([]);
    expect(ts.failures.map((f) => [f.id, f.code])).toEqual([
      [1, "SIZE_MISMATCH"],
      [2, "SIZE_MISMATCH"],
      [3, "SIZE_MISMATCH"],
    ]);
  });
});

describe("server limits and policies, through GbClient", () => {
  it("dictLimits: DICT_TOO_LARGE and DICT_TOO_DEEP fail only their item", async () => {
    const ts = await startServer(resources, {
      dictLimits: { maxBytes: 200, maxDepth: 3, maxValues: 1000 },
    });
    const client = await connectClient(resources, ts);
    const large = client.sendDict({ big: "x".repeat(300) }, { format: "json", name: "large" });
    const deep = client.sendDict(
      { a: { b: { c: { d: 1 } } } },
      { format: "msgpack", name: "deep" },
    );
    const ok = client.sendDict({ a: { b: 1 } }, { format: "xml", name: "ok" });
    await expect(large).rejects.toMatchObject({ code: "DICT_TOO_LARGE", itemId: 1 });
    await expect(deep).rejects.toMatchObject({ code: "DICT_TOO_DEEP", itemId: 2 });
    await expect(ok).resolves.toMatchObject({ receipt: { savedAs: "ok.json" } });
    await client.close();
    expect(await storedFiles(ts.saveDir!)).toEqual(["ok.json"]);
  });

  it("[H-POLICY] plaintext never: a client without a key fails at connect with ENCRYPTION_REQUIRED, one with it is served", async () => {
    const ts = await startServer(resources, { plaintext: "never" });
    await expect(connectClient(resources, ts)).rejects.toMatchObject({
      code: "ENCRYPTION_REQUIRED",
      remote: false,
    });
    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    expect(client.hello.accepts).toEqual(["noise"]);
    const sealed = client.sendDict({ a: 1 }, { format: "json", name: "sealed" });
    await expect(sealed).resolves.toMatchObject({
      encrypted: true,
      receipt: { savedAs: "sealed.json" },
    });
    await client.close();
    expect(await storedFiles(ts.saveDir!)).toEqual(["sealed.json"]);
    // Nothing was sent by the refused client: no failure to report.
    expect(ts.failures).toEqual([]);
  });

  it("encrypt without a client key rejects with KEY_MISSING and sends nothing", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    await expect(
      client.sendDict({ a: 1 }, { format: "json", encrypt: true }),
    ).rejects.toMatchObject({
      code: "KEY_MISSING",
    });
    // The connection is still usable and item ids stay in sequence.
    await expect(
      client.sendDict({ a: 1 }, { format: "json", name: "after" }),
    ).resolves.toMatchObject({
      id: 1,
    });
    await client.close();
    expect(ts.failures).toEqual([]);
  });

  it("sendFile of a missing path rejects with INPUT_UNREADABLE; the connection goes on", async () => {
    const ts = await startServer(resources);
    const dir = await makeTempDir(resources);
    const client = await connectClient(resources, ts);
    await expect(client.sendFile(path.join(dir, "missing.bin"))).rejects.toMatchObject({
      code: "INPUT_UNREADABLE",
    });
    await expect(client.sendFile(dir)).rejects.toMatchObject({ code: "INPUT_UNREADABLE" });
    await expect(client.sendDict({ still: "fine" }, { format: "json" })).resolves.toBeDefined();
    await client.close();
  });

  it("a stream source that fails mid-item drops the connection and the server stores nothing", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    async function* failing(): AsyncGenerator<Buffer> {
      yield randomBytes(70_000);
      throw new Error("disk on fire");
    }
    await expect(
      client.sendStream(failing(), { name: "broken.bin", size: null }),
    ).rejects.toMatchObject({
      code: "INPUT_UNREADABLE",
    });
    const failure = await ts.waitFailure();
    expect(failure).toMatchObject({ id: 1, code: "TRUNCATED", name: "broken.bin" });
    await ts.waitNoConnections();
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
    await expectServerHealthy(resources, ts);
  });
});

describe("send()", () => {
  it("sends several items over one connection and reports each outcome", async () => {
    const ts = await startServer(resources);
    const dir = await makeTempDir(resources);
    const filePath = path.join(dir, "f.txt");
    await writeFile(filePath, "file body");
    const outcomes = await send({ host: HOST, port: ts.port, encryption: { key: ts.masterKey } }, [
      { dict: { a: 1 }, format: "json", name: "one" },
      { file: filePath, encrypt: true },
      { file: path.join(dir, "missing") },
      { dict: { b: 2 }, format: "xml", encrypt: true },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true]);
    expect(outcomes[2]).toMatchObject({ ok: false, error: { code: "INPUT_UNREADABLE" } });
    expect(ts.items.map((i) => i.savedAs).sort()).toEqual(["dictionary.json", "f.txt", "one.json"]);
  });

  // PROTOCOL/API: "One item failing does not stop the others." A dictionary that cannot be
  // encoded must become a { ok: false } outcome, not reject the whole call.
  it("a dictionary that cannot be encoded is one failed outcome, not a rejection of the call", async () => {
    const ts = await startServer(resources);
    const outcomes = await send({ host: HOST, port: ts.port }, [
      { dict: { ok: 1 }, format: "json", name: "first" },
      { dict: { bad: Number.NaN }, format: "json", name: "bad" },
      { dict: { ok: 2 }, format: "json", name: "third" },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: "DICT_INVALID" } });
    expect(ts.items.map((i) => i.savedAs)).toEqual(["first.json", "third.json"]);
  });

  it("GbClient.sendDict reports an unencodable dictionary as a rejected promise", async () => {
    // The method returns a Promise; callers (send(), Promise.all) expect failures there.
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = client.sendDict({ bad: Number.POSITIVE_INFINITY }, { format: "msgpack" });
    }).not.toThrow();
    await expect(promise).rejects.toMatchObject({ code: "DICT_INVALID" });
    await client.close();
  });
});

describe("JSON dictionaries of every size, plain and encrypted", () => {
  // The client sends a small JSON dictionary as text encoded straight into a frame, a
  // larger one as a buffer, and one over a chunk (64 KiB) as several chunks.
  const SIZES = [10, 3_000, 20_000, 200_000] as const;

  it.each(SIZES)("a ~%i-character string round-trips with a matching receipt", async (length) => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    const value: JsonObject = { text: "é中😀x".repeat(Math.ceil(length / 5)), n: -0 };
    // -0 is the float negative zero, written -0.0 [C-FLOAT].
    const expected = Buffer.from(`{"text":${JSON.stringify(value["text"])},"n":-0.0}`, "utf8");
    const [plain, sealed] = await Promise.all([
      client.sendDict(value, { format: "json", name: "plain" }),
      client.sendDict(value, { format: "json", name: "sealed", encrypt: true }),
    ]);
    await client.close();
    for (const sent of [plain, sealed]) {
      expect(sent.bytes).toBe(expected.length);
      expect(sent.sha256).toBe(sha256(expected));
      expect(sent.receipt).toMatchObject({ bytes: expected.length, sha256: sha256(expected) });
    }
    for (const item of ts.items) {
      expect([...item.value!]).toEqual([
        ["text", value["text"]],
        ["n", -0],
      ]);
      expect(Object.is(item.value!.get("n"), -0)).toBe(true);
    }
    expect(ts.items).toHaveLength(2);
  });
});
