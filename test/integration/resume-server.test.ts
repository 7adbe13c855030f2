/**
 * The server's side of resuming [RES-*], driven by a raw client: what it offers, what it
 * keeps when a connection is cut, what it stores, and how it refuses a RESUME that does
 * not match its OFFER. Sizes are small (a few MiB): what matters is the offsets.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, readdir, stat, symlink, utimes } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import type { ItemMeta } from "../../src/protocol/messages.js";
import { decodeOffer, type OfferMessage } from "../../src/protocol/resume-messages.js";
import { STATE_DIRECTORY_NAME } from "../../src/transfer/server/resume-state.js";
import {
  RawPeer,
  chunkFrames,
  cut,
  expectServerHealthy,
  frame,
  listDir,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
  startServer,
  storedFiles,
  tempFiles,
  useResources,
  WAIT_MS,
  type TestServer,
  type TestServerOptions,
} from "./helpers.js";

const resources = useResources();

const MiB = 1024 * 1024;
const SIZE = 3 * MiB;
const EMPTY_SHA256 = createHash("sha256").digest("hex");

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function resumeMeta(key: string, size: number, name = "big.bin"): ItemMeta {
  return { kind: "file", name, size, resume: { key } };
}

function resumeFrame(id: number, from: number): Buffer {
  return frame(FrameType.RESUME, Buffer.from(JSON.stringify({ id, from })));
}

function newKey(): string {
  return randomBytes(32).toString("hex");
}

/** Opens a plain connection and sends the ITEM of `meta` as item `id`; resolves with its OFFER. */
async function ask(
  ts: TestServer,
  meta: ItemMeta,
  id = 1,
): Promise<{ peer: RawPeer; offer: OfferMessage }> {
  const peer = await RawPeer.connect(resources, ts.port);
  await peer.write(Buffer.concat([preamble(), plainItemFrame(id, meta)]));
  await peer.until(() => peer.frames.some((f) => f.type === FrameType.OFFER), "an OFFER");
  const offer = decodeOffer(peer.frames.find((f) => f.type === FrameType.OFFER)!.payload);
  return { peer, offer };
}

/**
 * Sends `data` of a file of `size` bytes from byte 0 after a RESUME from 0, then ends the
 * connection mid-item (a half-close: every byte arrives), and waits until the server let
 * the connection go (the partial kept by then).
 */
async function cutAfter(ts: TestServer, key: string, data: Buffer, sent: number): Promise<void> {
  const { peer, offer } = await ask(ts, resumeMeta(key, data.length));
  expect(offer.offset).toBe(0);
  await peer.write(
    Buffer.concat([
      resumeFrame(1, 0),
      ...cut(data.subarray(0, sent)).map((p) => frame(FrameType.CHUNK, p)),
    ]),
  );
  peer.end();
  await peer.waitError((e) => e.code === "TRUNCATED");
  await peer.waitClosed();
  await ts.waitNoConnections();
}

/** The partial files the server keeps in its state directory. */
async function partials(ts: TestServer): Promise<string[]> {
  const names = await listDir(path.join(ts.saveDir!, STATE_DIRECTORY_NAME));
  return names.filter((name) => name.endsWith(".part"));
}

/** Sends the rest of the file from `from` and returns the RECEIPT. */
async function finish(peer: RawPeer, data: Buffer, from: number) {
  await peer.write(Buffer.concat([resumeFrame(1, from), chunkFrames(cut(data.subarray(from)))]));
  const [answer] = await peer.waitAnswers(1);
  return readReceipt(answer!);
}

async function restartOn(ts: TestServer, options: TestServerOptions = {}): Promise<TestServer> {
  await ts.server.close(1000);
  return startServer(resources, { saveDir: ts.saveDir, ...options });
}

describe("resuming an item, server side", () => {
  it("[RES-OFFER] offers 0 and the SHA-256 of nothing for a key it does not hold; [RES-STATE] the file is stored whole", async () => {
    const ts = await startServer(resources);
    const data = randomBytes(SIZE);
    const { peer, offer } = await ask(ts, resumeMeta(newKey(), SIZE));
    expect(offer).toEqual({ id: 1, offset: 0, sha256: EMPTY_SHA256 });
    const receipt = await finish(peer, data, 0);
    expect(receipt.body).toMatchObject({ bytes: SIZE, sha256: sha256(data), savedAs: "big.bin" });
    expect(sha256(await readFile(path.join(ts.saveDir!, "big.bin")))).toBe(sha256(data));
    expect(await partials(ts)).toEqual([]);
  });

  it("[RES-FAIL] keeps what arrived when the connection ends mid-item, and [RES-RESUME] goes on from there: the receipt covers the whole file", async () => {
    const ts = await startServer(resources);
    const key = newKey();
    const data = randomBytes(SIZE);
    await cutAfter(ts, key, data, 2 * MiB);
    expect(await storedFiles(ts.saveDir!)).toEqual([STATE_DIRECTORY_NAME]);
    expect(await partials(ts)).toEqual([`${key}.part`]);
    const { peer, offer } = await ask(ts, resumeMeta(key, SIZE));
    expect(offer).toEqual({ id: 1, offset: 2 * MiB, sha256: sha256(data.subarray(0, 2 * MiB)) });
    const receipt = await finish(peer, data, 2 * MiB);
    expect(receipt.body).toMatchObject({ bytes: SIZE, sha256: sha256(data), savedAs: "big.bin" });
    expect(sha256(await readFile(path.join(ts.saveDir!, "big.bin")))).toBe(sha256(data));
    // [RES-STATE] linked to its name: nothing left in the state directory.
    expect(await readdir(path.join(ts.saveDir!, STATE_DIRECTORY_NAME))).toEqual([]);
  });

  it("[RES-RESUME] from 0 after an offset: the partial is emptied and the new bytes stored", async () => {
    const ts = await startServer(resources);
    const key = newKey();
    await cutAfter(ts, key, randomBytes(SIZE), MiB);
    const other = randomBytes(SIZE);
    const { peer, offer } = await ask(ts, resumeMeta(key, SIZE));
    expect(offer.offset).toBe(MiB);
    const receipt = await finish(peer, other, 0);
    expect(receipt.body).toMatchObject({ bytes: SIZE, sha256: sha256(other) });
    expect(sha256(await readFile(path.join(ts.saveDir!, "big.bin")))).toBe(sha256(other));
  });

  it("[RES-STATE] a partial survives a restart of the server", async () => {
    let ts = await startServer(resources);
    const key = newKey();
    const data = randomBytes(SIZE);
    await cutAfter(ts, key, data, 2 * MiB + 5);
    ts = await restartOn(ts);
    const { peer, offer } = await ask(ts, resumeMeta(key, SIZE));
    expect(offer.offset).toBe(2 * MiB + 5);
    expect((await finish(peer, data, offer.offset)).body.sha256).toBe(sha256(data));
  });

  it("[RES-STATE] a partial holding more than its description records is offered only what is recorded", async () => {
    let ts = await startServer(resources);
    const key = newKey();
    const data = randomBytes(SIZE);
    await cutAfter(ts, key, data, MiB);
    await ts.server.close(1000);
    // As after a crash between writing bytes and recording them.
    const partial = path.join(ts.saveDir!, STATE_DIRECTORY_NAME, `${key}.part`);
    const { appendFile } = await import("node:fs/promises");
    await appendFile(partial, data.subarray(MiB, MiB + 4096));
    ts = await startServer(resources, { saveDir: ts.saveDir });
    expect((await stat(partial)).size).toBe(MiB);
    const { offer } = await ask(ts, resumeMeta(key, SIZE));
    expect(offer.offset).toBe(MiB);
  });

  it("[RES-EXPIRE] a partial older than the expiry is removed when the server starts", async () => {
    let ts = await startServer(resources);
    const key = newKey();
    await cutAfter(ts, key, randomBytes(SIZE), MiB);
    await ts.server.close(1000);
    const partial = path.join(ts.saveDir!, STATE_DIRECTORY_NAME, `${key}.part`);
    const dayAndHourAgo = new Date(Date.now() - 25 * 60 * 60 * 1000);
    await utimes(partial, dayAndHourAgo, dayAndHourAgo);
    ts = await startServer(resources, { saveDir: ts.saveDir });
    expect(await partials(ts)).toEqual([]);
    const { offer } = await ask(ts, resumeMeta(key, SIZE));
    expect(offer.offset).toBe(0);
  });

  it("[RES-STATE] records a partial every 16 MiB while it arrives, its bytes flushed first", async () => {
    const ts = await startServer(resources);
    const key = newKey();
    const size = 40 * MiB;
    const { peer } = await ask(ts, resumeMeta(key, size));
    const sent = randomBytes(20 * MiB);
    await peer.write(
      Buffer.concat([resumeFrame(1, 0), ...cut(sent).map((p) => frame(FrameType.CHUNK, p))]),
    );
    // The connection is still open: only a checkpoint can have written the description.
    const description = path.join(ts.saveDir!, STATE_DIRECTORY_NAME, `${key}.json`);
    await vi.waitFor(
      async () => {
        const recorded: unknown = JSON.parse(await readFile(description, "utf8"));
        expect(recorded).toMatchObject({ size, bytes: expect.any(Number) as number });
        expect(Reflect.get(Object(recorded), "bytes")).toBeGreaterThanOrEqual(16 * MiB);
      },
      { timeout: WAIT_MS, interval: 20 },
    );
    expect(peer.isClosed).toBe(false);
  });

  it("[RES-EXPIRE] partials at rest are pruned while the server runs", async () => {
    const ts = await startServer(resources, { resumeExpiryMs: 300 });
    const key = newKey();
    await cutAfter(ts, key, randomBytes(SIZE), MiB);
    await vi.waitFor(
      async () => {
        expect(await partials(ts)).toEqual([]);
      },
      { timeout: WAIT_MS, interval: 50 },
    );
  });

  it("[RES-EXPIRE] the expiry is an option: a partial past it is not offered", async () => {
    let ts = await startServer(resources);
    const key = newKey();
    await cutAfter(ts, key, randomBytes(SIZE), MiB);
    const partial = path.join(ts.saveDir!, STATE_DIRECTORY_NAME, `${key}.part`);
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(partial, minuteAgo, minuteAgo);
    ts = await restartOn(ts, { resumeExpiryMs: 30_000 });
    expect(await partials(ts)).toEqual([]);
    expect((await ask(ts, resumeMeta(key, SIZE))).offer.offset).toBe(0);
  });

  it("[RES-BOUND] evicts the oldest partial at rest to make room, and an item over the bound goes without state", async () => {
    const ts = await startServer(resources, { resumeMaxBytes: 4 * MiB });
    const first = newKey();
    await cutAfter(ts, first, randomBytes(SIZE), 2 * MiB);
    const second = newKey();
    // 2 MiB at rest + 3 MiB for the new item > 4 MiB: the first partial goes.
    await cutAfter(ts, second, randomBytes(SIZE), MiB);
    expect(await partials(ts)).toEqual([`${second}.part`]);
    expect((await ask(ts, resumeMeta(first, SIZE))).offer.offset).toBe(0);
    // Larger than the bound: received, never kept.
    const large = newKey();
    const data = randomBytes(5 * MiB);
    const { peer, offer } = await ask(ts, resumeMeta(large, data.length, "large.bin"));
    expect(offer.offset).toBe(0);
    expect((await finish(peer, data, 0)).body.sha256).toBe(sha256(data));
    expect(sha256(await readFile(path.join(ts.saveDir!, "large.bin")))).toBe(sha256(data));
    expect((await partials(ts)).some((name) => name.startsWith(large))).toBe(false);
  });

  it("[RES-BOUND] an item under 1 MiB that asks is received without state; a cut before any byte keeps nothing", async () => {
    const ts = await startServer(resources);
    const key = newKey();
    const small = randomBytes(MiB - 1);
    await cutAfter(ts, key, small, 1000);
    expect(await partials(ts)).toEqual([]);
    const { peer, offer } = await ask(ts, resumeMeta(key, small.length));
    expect(offer.offset).toBe(0);
    expect((await finish(peer, small, 0)).body.sha256).toBe(sha256(small));
    peer.end();
    await peer.waitClosed();
    // A resumable item cut before its first byte leaves no partial either.
    const empty = newKey();
    await cutAfter(ts, empty, randomBytes(SIZE), 0);
    expect(await partials(ts)).toEqual([]);
  });

  it("[RES-BUSY] a second connection asking for a key in use takes it over: the first is ended, its partial kept, and the second resumes from it", async () => {
    const ts = await startServer(resources);
    const key = newKey();
    const data = randomBytes(SIZE);
    await cutAfter(ts, key, data, MiB);
    // The first connection holds the key and goes on: a RESUME and one more MiB.
    const first = await ask(ts, resumeMeta(key, SIZE));
    expect(first.offer.offset).toBe(MiB);
    await first.peer.write(
      Buffer.concat([
        resumeFrame(1, MiB),
        ...cut(data.subarray(MiB, 2 * MiB)).map((p) => frame(FrameType.CHUNK, p)),
      ]),
    );
    await vi.waitFor(() => {
      expect(ts.server.connections).toBe(1);
    });
    // The same source asked again (its client rerun after a network loss the server has
    // not noticed): the first connection is ended, and what it received is offered.
    const second = await ask(ts, resumeMeta(key, SIZE, "copy.bin"));
    await first.peer.waitClosed();
    expect(second.offer.offset).toBeGreaterThanOrEqual(MiB);
    expect(second.offer.offset).toBeLessThanOrEqual(2 * MiB);
    expect(second.offer.sha256).toBe(sha256(data.subarray(0, second.offer.offset)));
    const receipt = await finish(second.peer, data, second.offer.offset);
    expect(receipt.body).toMatchObject({ bytes: SIZE, sha256: sha256(data), savedAs: "copy.bin" });
    expect(sha256(await readFile(path.join(ts.saveDir!, "copy.bin")))).toBe(sha256(data));
    expect(await storedFiles(ts.saveDir!)).toEqual([STATE_DIRECTORY_NAME, "copy.bin"]);
  });

  it("[RES-OFFER] a server that does not save offers 0 and keeps no state", async () => {
    const ts = await startServer(resources, { save: false });
    const data = randomBytes(SIZE);
    const { peer, offer } = await ask(ts, resumeMeta(newKey(), SIZE));
    expect(offer).toEqual({ id: 1, offset: 0, sha256: EMPTY_SHA256 });
    const receipt = await finish(peer, data, 0);
    expect(receipt.body).toMatchObject({ bytes: SIZE, sha256: sha256(data), savedAs: null });
    expect(await listDir(ts.root)).toEqual([]);
  });

  it("[RES-FAIL] an item that fails on its own (SIZE_MISMATCH) takes its partial with it", async () => {
    const ts = await startServer(resources);
    const key = newKey();
    const data = randomBytes(SIZE);
    await cutAfter(ts, key, data, MiB);
    const { peer, offer } = await ask(ts, resumeMeta(key, SIZE));
    expect(offer.offset).toBe(MiB);
    // One byte short: the item fails alone, the connection goes on.
    await peer.write(
      Buffer.concat([resumeFrame(1, MiB), chunkFrames(cut(data.subarray(MiB, SIZE - 1)))]),
    );
    const [answer] = await peer.waitAnswers(1);
    expect(readError(answer!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    peer.end();
    await peer.waitClosed();
    await ts.waitNoConnections();
    expect(await partials(ts)).toEqual([]);
    expect(await tempFiles(ts.saveDir!)).toEqual([]);
  });
});

describe("[RES-SECURITY] the state directory", () => {
  it("[RES-SECURITY] is mode 0700; a partial stored gets the mode of any stored file", async () => {
    const ts = await startServer(resources);
    const key = newKey();
    await cutAfter(ts, key, randomBytes(SIZE), MiB);
    const state = path.join(ts.saveDir!, STATE_DIRECTORY_NAME);
    expect((await stat(state)).mode & 0o777).toBe(0o700);
    // 0644 less the umask, as a stored file: the owner's, writable by no one else.
    const mode = (await stat(path.join(state, `${key}.part`))).mode;
    expect(mode & 0o600).toBe(0o600);
    expect(mode & 0o022).toBe(0);
  });

  it("[RES-SECURITY] one found open to others is closed to 0700 before it is used", async () => {
    const ts = await startServer(resources);
    const state = path.join(ts.saveDir!, STATE_DIRECTORY_NAME);
    await mkdir(state, { mode: 0o777 });
    await chmod(state, 0o777);
    const key = newKey();
    await cutAfter(ts, key, randomBytes(SIZE), MiB);
    expect((await stat(state)).mode & 0o777).toBe(0o700);
    expect(await partials(ts)).toEqual([`${key}.part`]);
  });

  it("[RES-SECURITY] a link planted at its name is never followed: items go without state", async () => {
    const ts = await startServer(resources);
    const elsewhere = path.join(ts.root, "elsewhere");
    await mkdir(elsewhere);
    await symlink(elsewhere, path.join(ts.saveDir!, STATE_DIRECTORY_NAME));
    const data = randomBytes(SIZE);
    const { peer, offer } = await ask(ts, resumeMeta(newKey(), SIZE));
    expect(offer.offset).toBe(0);
    expect((await finish(peer, data, 0)).body.sha256).toBe(sha256(data));
    expect(await readdir(elsewhere)).toEqual([]);
  });
});

describe("a RESUME that does not match its OFFER", () => {
  async function expectRefused(
    ts: TestServer,
    send: (offer: OfferMessage) => Buffer,
    code: string,
  ): Promise<void> {
    const key = newKey();
    await cutAfter(ts, key, randomBytes(SIZE), MiB);
    const { peer, offer } = await ask(ts, resumeMeta(key, SIZE));
    await peer.write(send(offer));
    expect((await peer.waitError((e) => e.id === undefined)).code).toBe(code);
    await peer.waitClosed();
    await ts.waitNoConnections();
    // [RES-FAIL] the connection failed, not the item: the partial is still there.
    expect(await partials(ts)).toContain(`${key}.part`);
    await expectServerHealthy(resources, ts);
  }

  it("[RES-RESUME] from neither the offset nor 0: MALFORMED_MESSAGE, and the server stays up", async () => {
    const ts = await startServer(resources);
    await expectRefused(ts, (offer) => resumeFrame(1, offer.offset - 1), "MALFORMED_MESSAGE");
    await expectRefused(ts, (offer) => resumeFrame(1, offer.offset + 1), "MALFORMED_MESSAGE");
    await expectRefused(ts, () => resumeFrame(1, Number.MAX_SAFE_INTEGER), "MALFORMED_MESSAGE");
  });

  it("[RES-RESUME] a huge or negative from is MALFORMED_MESSAGE", async () => {
    const ts = await startServer(resources);
    const raw = (text: string): Buffer => frame(FrameType.RESUME, Buffer.from(text));
    await expectRefused(ts, () => raw('{"id":1,"from":9007199254740992}'), "MALFORMED_MESSAGE");
    await expectRefused(ts, () => raw('{"id":1,"from":-1048576}'), "MALFORMED_MESSAGE");
  });

  it("[RES-RESUME] a RESUME for another item is MALFORMED_MESSAGE", async () => {
    const ts = await startServer(resources);
    await expectRefused(ts, (offer) => resumeFrame(2, offer.offset), "MALFORMED_MESSAGE");
  });

  it("[RES-RESUME] data before the RESUME is UNEXPECTED_FRAME", async () => {
    const ts = await startServer(resources);
    await expectRefused(ts, () => frame(FrameType.CHUNK, randomBytes(10)), "UNEXPECTED_FRAME");
    await expectRefused(ts, () => frame(FrameType.LAST_CHUNK), "UNEXPECTED_FRAME");
  });

  it("[RES-RESUME] a RESUME where no OFFER awaits one is UNEXPECTED_FRAME", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "file", name: "a", size: 1 }),
        chunkFrames([Buffer.from("a")]),
        resumeFrame(1, 0),
      ]),
    );
    expect((await peer.waitError((e) => e.id === undefined)).code).toBe("UNEXPECTED_FRAME");
    await expectServerHealthy(resources, ts);
  });
});
