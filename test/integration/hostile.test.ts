/**
 * Hostile peers: raw sockets that break the protocol on purpose. Each test gets its own
 * server; after every test a normal GbClient must still succeed against it (the server
 * never dies and is never wedged by what a peer sent).
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { toPlainObject } from "../../src/codecs/to-plain-object.js";
import { FrameType } from "../../src/protocol/constants.js";
import type { ItemMeta } from "../../src/protocol/messages.js";
import {
  RawPeer,
  Resources,
  chunkFrames,
  expectNoTempFiles,
  expectServerHealthy,
  frame,
  frameHeader,
  plainDictItem,
  plainFileItem,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
  sha256,
  startServer,
  storedFiles,
  tempFiles,
  type TestServer,
} from "./helpers.js";

const resources = new Resources();
let ts: TestServer;

beforeEach(async () => {
  ts = await startServer(resources, { previewBytes: 0 });
});

afterEach(async () => {
  try {
    // The same server still serves a well-behaved client, plaintext and encrypted.
    await expectServerHealthy(resources, ts);
    expect(ts.server.connections).toBeLessThanOrEqual(1);
  } finally {
    await resources.release();
  }
});

/** Connects, sends the preamble (unless `raw`) and `bytes`, and optionally half-closes. */
async function open(
  bytes: Uint8Array,
  options: { raw?: boolean; end?: boolean } = {},
): Promise<RawPeer> {
  const peer = await RawPeer.connect(resources, ts.port);
  await peer.write(options.raw === true ? bytes : Buffer.concat([preamble(), bytes]));
  if (options.end === true) peer.end();
  return peer;
}

/** Asserts the server answered with one connection ERROR `code` (no id) and closed. */
async function expectConnectionError(peer: RawPeer, code: string): Promise<void> {
  const error = await peer.waitError((e) => e.id === undefined);
  expect(error.code).toBe(code);
  await peer.waitClosed();
  expect(peer.parseError).toBeUndefined();
  expect(peer.serverVersion).toBe(2);
  expect(peer.frames[0]!.type).toBe(FrameType.HELLO);
  // The connection ERROR is the last thing the server said.
  expect(peer.frames.at(-1)!.type).toBe(FrameType.ERROR);
  expect(peer.errors().filter((e) => e.id === undefined)).toHaveLength(1);
  const failure = await ts.waitFailure((f) => f.code === code);
  expect(failure.code).toBe(code);
}

const FILE_META = (size: number | null, name = "f.bin"): ItemMeta => ({ kind: "file", name, size });

describe("preamble", () => {
  it("garbage instead of a preamble gets BAD_PREAMBLE, then the connection closes", async () => {
    const peer = await open(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), { raw: true });
    await expectConnectionError(peer, "BAD_PREAMBLE");
  });

  it("a text-mode mangled preamble (CR LF -> LF) gets BAD_PREAMBLE", async () => {
    const peer = await open(Buffer.from("GBTP\n\u0000\u0001\u0000\u0000", "latin1"), { raw: true });
    await expectConnectionError(peer, "BAD_PREAMBLE");
  });

  for (const version of [0, 1, 3, 0xffff]) {
    it(`[P-PREAMBLE] version ${version} gets UNSUPPORTED_VERSION`, async () => {
      const peer = await open(preamble(version), { raw: true });
      await expectConnectionError(peer, "UNSUPPORTED_VERSION");
    });
  }
});

describe("frame headers", () => {
  it("a frame declaring ~4 GiB gets FRAME_TOO_LARGE at once, without the payload being sent", async () => {
    const peer = await open(frameHeader(FrameType.ITEM, 0xffff_ffff));
    // Nothing more is sent: the server must answer on the header alone.
    await expectConnectionError(peer, "FRAME_TOO_LARGE");
  });

  it("a CHUNK header declaring 4 GiB - 1 mid-item gets FRAME_TOO_LARGE at once", async () => {
    const peer = await open(
      Buffer.concat([
        plainItemFrame(1, FILE_META(null)),
        frameHeader(FrameType.CHUNK, 0xffff_ffff),
      ]),
    );
    await expectConnectionError(peer, "FRAME_TOO_LARGE");
    const failure = await ts.waitFailure();
    expect(failure).toMatchObject({ code: "FRAME_TOO_LARGE", id: 1 });
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
  });

  it("an ITEM one byte over its 16384 limit gets FRAME_TOO_LARGE", async () => {
    const peer = await open(frameHeader(FrameType.ITEM, 16_385));
    await expectConnectionError(peer, "FRAME_TOO_LARGE");
  });

  it("[F-LIMIT] a CHUNK header one byte over its 65536 limit gets FRAME_TOO_LARGE", async () => {
    const peer = await open(
      Buffer.concat([plainItemFrame(1, FILE_META(null)), frameHeader(FrameType.CHUNK, 65_537)]),
    );
    await expectConnectionError(peer, "FRAME_TOO_LARGE");
  });

  it("[F-CHUNK] a chunk of 65537 bytes gets FRAME_TOO_LARGE, nothing stored", async () => {
    const peer = await open(
      Buffer.concat([
        plainItemFrame(1, FILE_META(null)),
        frame(FrameType.CHUNK, randomBytes(65_537)),
      ]),
    );
    await expectConnectionError(peer, "FRAME_TOO_LARGE");
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
  });

  for (const type of [
    0x00,
    0x08,
    0x7f,
    0xff,
    FrameType.HELLO,
    FrameType.RECEIPT,
    FrameType.ERROR,
  ]) {
    it(`frame type 0x${type.toString(16)} from a client gets UNKNOWN_FRAME_TYPE`, async () => {
      const peer = await open(frame(type, Buffer.from("{}")));
      await expectConnectionError(peer, "UNKNOWN_FRAME_TYPE");
    });
  }
});

describe("control messages", () => {
  const MALFORMED_ITEMS: readonly [string, Buffer][] = [
    ["not JSON", Buffer.from("this is not json")],
    ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ["a JSON array", Buffer.from("[1,2,3]")],
    ["JSON null", Buffer.from("null")],
    ["empty", Buffer.alloc(0)],
    ["no id", Buffer.from('{"meta":{"kind":"file","name":"a","size":1}}')],
    ["id as a string", Buffer.from('{"id":"1","meta":{"kind":"file","name":"a","size":1}}')],
    ["id 1.5", Buffer.from('{"id":1.5,"meta":{"kind":"file","name":"a","size":1}}')],
    ["id -1", Buffer.from('{"id":-1,"meta":{"kind":"file","name":"a","size":1}}')],
    ["id 2^53", Buffer.from('{"id":9007199254740992,"meta":{"kind":"file","name":"a","size":1}}')],
    ["no meta", Buffer.from('{"id":1}')],
    ["meta an array", Buffer.from('{"id":1,"meta":[]}')],
    ["unknown kind", Buffer.from('{"id":1,"meta":{"kind":"dir","name":"a","size":1}}')],
    ["name a number", Buffer.from('{"id":1,"meta":{"kind":"file","name":1,"size":1}}')],
    ["negative size", Buffer.from('{"id":1,"meta":{"kind":"file","name":"a","size":-1}}')],
    ["size a string", Buffer.from('{"id":1,"meta":{"kind":"file","name":"a","size":"1"}}')],
    ["missing size", Buffer.from('{"id":1,"meta":{"kind":"file","name":"a"}}')],
    [
      "dict with null size",
      Buffer.from('{"id":1,"meta":{"kind":"dict","format":"json","name":"a","size":null}}'),
    ],
    [
      "unknown dict format",
      Buffer.from('{"id":1,"meta":{"kind":"dict","format":"yaml","name":"a","size":2}}'),
    ],
  ];
  for (const [label, payload] of MALFORMED_ITEMS) {
    it(`an ITEM that is ${label} gets MALFORMED_MESSAGE`, async () => {
      const peer = await open(frame(FrameType.ITEM, payload));
      await expectConnectionError(peer, "MALFORMED_MESSAGE");
      expect(ts.items).toEqual([]);
    });
  }

  it('[J-MEMBERS] unknown members are ignored, version 1\'s "encrypted" among them (room for later versions)', async () => {
    const header = {
      id: 1,
      encrypted: true,
      future: { x: 1 },
      meta: { kind: "file", name: "f.txt", size: 2, future: "yes" },
    };
    const peer = await open(
      Buffer.concat([
        frame(FrameType.ITEM, Buffer.from(JSON.stringify(header))),
        frame(FrameType.LAST_CHUNK, Buffer.from("hi")),
      ]),
      { end: true },
    );
    const [answer] = await peer.waitAnswers(1);
    expect(readReceipt(answer!).body).toMatchObject({ savedAs: "f.txt", bytes: 2 });
    await peer.waitClosed();
  });
});

describe("sequence", () => {
  it("CHUNK before any ITEM gets UNEXPECTED_FRAME", async () => {
    const peer = await open(frame(FrameType.CHUNK, Buffer.from("data")));
    await expectConnectionError(peer, "UNEXPECTED_FRAME");
  });

  it("LAST_CHUNK before any ITEM gets UNEXPECTED_FRAME", async () => {
    const peer = await open(frame(FrameType.LAST_CHUNK));
    await expectConnectionError(peer, "UNEXPECTED_FRAME");
  });

  it("an ITEM in the middle of an item gets UNEXPECTED_FRAME and nothing is stored", async () => {
    const peer = await open(
      Buffer.concat([
        plainItemFrame(1, FILE_META(null)),
        frame(FrameType.CHUNK, Buffer.from("part")),
        plainItemFrame(2, FILE_META(1)),
      ]),
    );
    await expectConnectionError(peer, "UNEXPECTED_FRAME");
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
  });

  it("an ITEM while the previous item is being discarded gets UNEXPECTED_FRAME", async () => {
    const peer = await open(
      Buffer.concat([
        plainItemFrame(1, FILE_META(1)),
        frame(FrameType.CHUNK, Buffer.from("too many")),
        plainItemFrame(2, FILE_META(1)),
      ]),
    );
    await expectConnectionError(peer, "UNEXPECTED_FRAME");
    expect(peer.errors().map((e) => [e.code, e.id])).toEqual([
      ["SIZE_MISMATCH", 1],
      ["UNEXPECTED_FRAME", undefined],
    ]);
  });

  it("a CHUNK after LAST_CHUNK (data after the final chunk) gets UNEXPECTED_FRAME after the receipt", async () => {
    const peer = await open(
      Buffer.concat([
        plainFileItem(1, "a.txt", Buffer.from("abc")),
        frame(FrameType.CHUNK, Buffer.from("extra")),
      ]),
    );
    await expectConnectionError(peer, "UNEXPECTED_FRAME");
    const [receipt] = peer.answers();
    expect(readReceipt(receipt!).body.savedAs).toBe("a.txt");
  });

  for (const [label, ids] of [
    ["item id 2 first", [2]],
    ["item id 0 first", [0]],
    ["item id 1 twice", [1, 1]],
    ["item ids 1 then 3", [1, 3]],
  ] as const) {
    it(`[M-ITEM-ID] ${label} gets MALFORMED_MESSAGE`, async () => {
      const items = ids.map((id) => plainFileItem(id, `i${id}.txt`, Buffer.from("x")));
      const peer = await open(Buffer.concat(items));
      await expectConnectionError(peer, "MALFORMED_MESSAGE");
      // Items before the bad one were received normally.
      expect(peer.answers().filter((f) => f.type === FrameType.RECEIPT)).toHaveLength(
        ids.length - 1,
      );
    });
  }

  it("an item id that follows a refused item continues the sequence", async () => {
    const peer = await open(
      Buffer.concat([
        plainFileItem(1, "bad.bin", Buffer.alloc(11), { size: 10 }),
        plainFileItem(2, "good.bin", Buffer.from("ok")),
      ]),
      { end: true },
    );
    const answers = await peer.waitAnswers(2);
    expect(readError(answers[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readReceipt(answers[1]!)).toMatchObject({ id: 2, body: { savedAs: "good.bin" } });
    await peer.waitClosed();
  });
});

describe("connection closed mid-item", () => {
  /** Sends ITEM + one CHUNK of a file and waits until the server created its temp file. */
  async function midItem(): Promise<RawPeer> {
    const peer = await open(
      Buffer.concat([
        // Over SMALL_FILE_MAX_BYTES: written to a partial file as it arrives.
        plainItemFrame(1, FILE_META(100_000, "partial.bin")),
        frame(FrameType.CHUNK, randomBytes(100)),
      ]),
    );
    await vi.waitFor(
      async () => {
        expect(await tempFiles(ts.saveDir!)).toHaveLength(1);
      },
      { timeout: 2000, interval: 5 },
    );
    return peer;
  }

  it("an abrupt close: failure TRUNCATED, no file, no temp file", async () => {
    const peer = await midItem();
    peer.destroy();
    const failure = await ts.waitFailure();
    expect(failure).toMatchObject({ code: "TRUNCATED", id: 1, name: "partial.bin" });
    await ts.waitNoConnections();
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
    expect(ts.items).toEqual([]);
  });

  it("a half-close mid-item: ERROR TRUNCATED, failure TRUNCATED, no file, no temp file", async () => {
    const peer = await midItem();
    peer.end();
    await expectConnectionError(peer, "TRUNCATED");
    expect(ts.failures).toEqual([expect.objectContaining({ code: "TRUNCATED", id: 1 })]);
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
  });

  it("a half-close in the middle of a frame mid-item: TRUNCATED, nothing stored", async () => {
    const whole = plainFileItem(1, "cut.bin", randomBytes(5000));
    const peer = await open(whole.subarray(0, whole.length - 100), { end: true });
    await expectConnectionError(peer, "TRUNCATED");
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
  });

  it("a half-close in the middle of a dictionary: TRUNCATED, nothing stored", async () => {
    const bytes = Buffer.from('{"a":1,"b":2}');
    const peer = await open(
      Buffer.concat([
        plainItemFrame(1, { kind: "dict", format: "json", name: "d", size: bytes.length }),
        frame(FrameType.CHUNK, bytes.subarray(0, 5)),
      ]),
      { end: true },
    );
    await expectConnectionError(peer, "TRUNCATED");
    expect(ts.failures).toEqual([expect.objectContaining({ code: "TRUNCATED", id: 1 })]);
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
  });
});

describe("size checks [V-SIZE]", () => {
  it("size 10 but 11 bytes in LAST_CHUNK: item ERROR SIZE_MISMATCH with id, next item succeeds", async () => {
    const peer = await open(
      Buffer.concat([
        plainFileItem(1, "eleven.bin", Buffer.alloc(11, 0x61), { size: 10 }),
        plainFileItem(2, "next.bin", Buffer.from("next")),
      ]),
      { end: true },
    );
    const answers = await peer.waitAnswers(2);
    expect(readError(answers[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readReceipt(answers[1]!)).toMatchObject({
      id: 2,
      body: { savedAs: "next.bin", sha256: sha256(Buffer.from("next")) },
    });
    await peer.waitClosed();
    expect(peer.errors().filter((e) => e.id === undefined)).toEqual([]);
    expect(await storedFiles(ts.saveDir!)).toEqual(["next.bin"]);
    await expectNoTempFiles(ts.saveDir!);
    expect(ts.failures).toEqual([
      expect.objectContaining({ code: "SIZE_MISMATCH", id: 1, name: "eleven.bin" }),
    ]);
  });

  it("size 10 and an 11th byte in a CHUNK: the ERROR comes before LAST_CHUNK is sent", async () => {
    const peer = await open(
      Buffer.concat([
        plainItemFrame(1, FILE_META(10, "eleven.bin")),
        frame(FrameType.CHUNK, Buffer.alloc(6, 1)),
        frame(FrameType.CHUNK, Buffer.alloc(5, 2)),
      ]),
    );
    // "as soon as more bytes arrive": no LAST_CHUNK has been sent yet.
    const error = await peer.waitError();
    expect(error).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    // The rest of the refused item is dropped up to its LAST_CHUNK; the connection goes on.
    await peer.write(
      Buffer.concat([
        frame(FrameType.CHUNK, randomBytes(65_536)),
        frame(FrameType.LAST_CHUNK, Buffer.from("tail")),
        plainFileItem(2, "next.bin", Buffer.from("next")),
      ]),
    );
    peer.end();
    const answers = await peer.waitAnswers(2);
    expect(readReceipt(answers[1]!)).toMatchObject({ id: 2, body: { savedAs: "next.bin" } });
    await peer.waitClosed();
    expect(await storedFiles(ts.saveDir!)).toEqual(["next.bin"]);
    await expectNoTempFiles(ts.saveDir!);
  });

  it("size 10 but LAST_CHUNK after 5 bytes: SIZE_MISMATCH, next item succeeds", async () => {
    const peer = await open(
      Buffer.concat([
        plainItemFrame(1, FILE_META(10, "five.bin")),
        frame(FrameType.CHUNK, Buffer.alloc(5, 1)),
        frame(FrameType.LAST_CHUNK),
        plainFileItem(2, "next.bin", Buffer.from("next")),
      ]),
      { end: true },
    );
    const answers = await peer.waitAnswers(2);
    expect(readError(answers[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readReceipt(answers[1]!).id).toBe(2);
    await peer.waitClosed();
    expect(await storedFiles(ts.saveDir!)).toEqual(["next.bin"]);
    await expectNoTempFiles(ts.saveDir!);
  });

  it("a dictionary whose bytes differ from its declared size gets SIZE_MISMATCH", async () => {
    const bytes = Buffer.from('{"a":1}');
    const peer = await open(
      Buffer.concat([
        plainItemFrame(1, { kind: "dict", format: "json", name: "short", size: bytes.length + 1 }),
        chunkFrames([bytes]),
        plainItemFrame(2, { kind: "dict", format: "json", name: "long", size: bytes.length - 1 }),
        chunkFrames([bytes]),
        plainDictItem(3, "ok", "json", bytes),
      ]),
      { end: true },
    );
    const answers = await peer.waitAnswers(3);
    expect(readError(answers[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readError(answers[1]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 2 });
    expect(readReceipt(answers[2]!)).toMatchObject({ id: 3, body: { savedAs: "ok.json" } });
    await peer.waitClosed();
  });
});

describe("invalid dictionaries", () => {
  const INVALID: readonly [format: "json" | "msgpack" | "xml", label: string, bytes: Buffer][] = [
    ["json", "truncated JSON", Buffer.from('{"a":')],
    ["json", "a top-level array", Buffer.from("[1,2]")],
    ["json", "invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ["json", "trailing garbage", Buffer.from('{"a":1} x')],
    ["json", "empty", Buffer.alloc(0)],
    ["msgpack", "a top-level array", Buffer.from([0x91, 0x01])],
    ["msgpack", "the never-used byte 0xc1", Buffer.from([0xc1])],
    ["msgpack", "trailing bytes", Buffer.from([0x80, 0x00])],
    ["msgpack", "a truncated map", Buffer.from([0x81, 0xa1, 0x61])],
    ["msgpack", "an int key", Buffer.from([0x81, 0x01, 0x02])],
    ["msgpack", "a bin value", Buffer.from([0x81, 0xa1, 0x61, 0xc4, 0x01, 0x00])],
    [
      "msgpack",
      "an ext value (timestamp)",
      Buffer.from([0x81, 0xa1, 0x61, 0xd6, 0xff, 0, 0, 0, 0]),
    ],
    ["xml", "the wrong root element", Buffer.from('<notdict xmlns="urn:gb-transfer:dict:1"/>')],
    [
      "xml",
      "a DOCTYPE with an entity",
      Buffer.from('<!DOCTYPE dict [<!ENTITY x "y">]><dict xmlns="urn:gb-transfer:dict:1"/>'),
    ],
    ["xml", "not XML at all", Buffer.from("not xml")],
    [
      "xml",
      "a bad number",
      Buffer.from('<dict xmlns="urn:gb-transfer:dict:1"><number key="n">1.</number></dict>'),
    ],
  ];

  it("each bad payload gets an item ERROR DICT_INVALID and the connection goes on", async () => {
    const items = INVALID.map(([format, label, bytes], i) =>
      plainDictItem(i + 1, label, format, bytes),
    );
    const good = Buffer.from(
      '<dict xmlns="urn:gb-transfer:dict:1"><number key="n">1</number></dict>',
    );
    items.push(plainDictItem(INVALID.length + 1, "good", "xml", good));
    const peer = await open(Buffer.concat(items), { end: true });
    const answers = await peer.waitAnswers(INVALID.length + 1);
    await peer.waitClosed();
    const errors = answers.slice(0, INVALID.length).map((f) => readError(f));
    expect(errors.map((e) => [e.id, e.code])).toEqual(
      INVALID.map((_, i) => [i + 1, "DICT_INVALID"]),
    );
    expect(readReceipt(answers[INVALID.length]!)).toMatchObject({
      id: INVALID.length + 1,
      body: { savedAs: "good.json" },
    });
    expect(peer.errors().filter((e) => e.id === undefined)).toEqual([]);
    expect(await storedFiles(ts.saveDir!)).toEqual(["good.json"]);
    expect(ts.items.map((i) => toPlainObject(i.value!))).toEqual([{ n: 1 }]);
  });
});
