/**
 * The one chunker of the client: a dictionary written whole and a stream written piece
 * by piece go through the same cutting [F-CHUNK] [F-LAST], so the same bytes make the
 * same frames however they arrive, and the same frames come out of the records of an
 * encrypted session [R-RECORD].
 */
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MAX_RECORD_PLAINTEXT_BYTES } from "../../src/crypto/constants.js";
import { CipherState } from "../../src/crypto/noise/cipher-state.js";
import { RecordOpener } from "../../src/crypto/record-opener.js";
import { RecordSealer } from "../../src/crypto/record-sealer.js";
import { FrameParser } from "../../src/framing/frame-parser.js";
import { FRAME_HEADER_BYTES } from "../../src/framing/frame.js";
import { FrameWriter, type FrameSink } from "../../src/framing/frame-writer.js";
import { RecordSink } from "../../src/framing/record-sink.js";
import {
  CLIENT_FRAME_LIMITS,
  FrameType,
  MAX_CHUNK_FRAME_BYTES,
} from "../../src/protocol/constants.js";
import type { ItemMeta } from "../../src/protocol/messages.js";
import { ItemChunker } from "../../src/transfer/client/item-chunker.js";
import { ItemSlot } from "../../src/transfer/client/item-slot.js";
import { sha256 } from "../support/sha256.js";

const CHUNK_PLAINTEXT_BYTES = MAX_CHUNK_FRAME_BYTES;
/** [R-ALIGN] In records, a full chunk's frame (5-byte header and data) fills one record. */
const RECORD_CHUNK_BYTES = MAX_RECORD_PLAINTEXT_BYTES - FRAME_HEADER_BYTES;
const RECORD_KEY = Buffer.alloc(32, 7);
const SIZES = [
  0,
  1,
  RECORD_CHUNK_BYTES - 1,
  RECORD_CHUNK_BYTES,
  RECORD_CHUNK_BYTES + 1,
  CHUNK_PLAINTEXT_BYTES - 1,
  CHUNK_PLAINTEXT_BYTES,
  CHUNK_PLAINTEXT_BYTES + 1,
  3 * CHUNK_PLAINTEXT_BYTES + 5,
];

/** The data of a full chunk: 64 KiB, or in records as much as fills one record. */
function chunkBytes(encrypted: boolean): number {
  return encrypted ? RECORD_CHUNK_BYTES : CHUNK_PLAINTEXT_BYTES;
}

interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

function cipher(): CipherState {
  const state = new CipherState();
  state.initializeKey(RECORD_KEY);
  return state;
}

/**
 * A frame writer over a stream that keeps every byte, and a way to read them back as
 * frames; `encrypted`, through a RecordSink, the bytes being records to open first.
 */
function recorder(encrypted = false): {
  writer: FrameWriter;
  frames: () => Frame[];
  bytes: () => Buffer;
} {
  const written: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(Buffer.from(chunk));
      callback();
    },
  });
  const socket = sink as unknown as FrameSink;
  const writer = new FrameWriter(
    encrypted ? new RecordSink(socket, new RecordSealer(cipher())) : socket,
  );
  const frames = (): Frame[] => {
    writer.flush();
    const parser = new FrameParser(CLIENT_FRAME_LIMITS, { expectPreamble: false });
    const bytes = Buffer.concat(written);
    if (encrypted) {
      const opener = new RecordOpener(cipher());
      for (const plaintext of opener.push(bytes)) parser.push(plaintext);
      expect(opener.atBoundary).toBe(true);
    } else parser.push(bytes);
    const result: Frame[] = [];
    for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
      if (unit.kind === "frame") {
        result.push({ type: unit.frame.type, payload: Buffer.from(unit.frame.payload) });
      }
    }
    return result;
  };
  const bytes = (): Buffer => {
    writer.flush();
    return Buffer.concat(written);
  };
  return { writer, frames, bytes };
}

function slotFor(meta: ItemMeta): ItemSlot {
  const slot = new ItemSlot(
    meta,
    () => undefined,
    () => undefined,
    () => undefined,
  );
  slot.id = 1;
  return slot;
}

/** Writes `data` whole, as a dictionary is written. */
function writtenWhole(data: Buffer | string, encrypted: boolean) {
  const { writer, frames } = recorder(encrypted);
  const size = typeof data === "string" ? Buffer.byteLength(data) : data.length;
  const slot = slotFor({ kind: "dict", format: "json", name: "d.json", size });
  ItemChunker.begin(writer, slot).writeWhole(data);
  return { frames: frames(), slot };
}

/** Writes `data` in the given pieces, as a stream is written. */
function writtenInPieces(pieces: readonly Buffer[], encrypted: boolean) {
  const { writer, frames } = recorder(encrypted);
  const size = pieces.reduce((total, piece) => total + piece.length, 0);
  const slot = slotFor({ kind: "dict", format: "json", name: "d.json", size });
  const chunker = ItemChunker.begin(writer, slot);
  for (const piece of pieces) chunker.add(piece);
  chunker.end();
  return { frames: frames(), slot };
}

/** Frames as type, length and hash: comparing large buffers deeply is slow. */
function summary(frames: readonly Frame[]): [number, number, string][] {
  return frames.map((frame) => [frame.type, frame.payload.length, sha256(frame.payload)]);
}

function cutAt(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of [...points, data.length]) {
    pieces.push(data.subarray(from, point));
    from = point;
  }
  return pieces;
}

describe("ItemChunker", () => {
  for (const encrypted of [false, true]) {
    const label = encrypted ? "through records" : "plain";
    it.each(SIZES)(
      `[F-CHUNK] [F-LAST] %i bytes, ${label}: full chunks, then one LAST_CHUNK`,
      (size) => {
        const data = randomBytes(size);
        const { frames, slot } = writtenWhole(data, encrypted);
        expect(frames[0]!.type).toBe(FrameType.ITEM);
        const chunks = frames.slice(1);
        const expected = Math.max(1, Math.ceil(size / chunkBytes(encrypted)));
        expect(chunks.map((frame) => frame.type)).toEqual([
          ...Array<number>(expected - 1).fill(FrameType.CHUNK),
          FrameType.LAST_CHUNK,
        ]);
        for (const frame of chunks.slice(0, -1)) {
          expect(frame.payload.length).toBe(chunkBytes(encrypted));
        }
        expect(slot.bytes).toBe(size);
        expect(slot.sha256).toBe(sha256(data));
        expect(Buffer.concat(chunks.map((frame) => frame.payload)).equals(data)).toBe(true);
      },
    );

    it(`a stream cut at chunk boundaries makes exactly the frames of the whole item (${label})`, () => {
      const chunk = chunkBytes(encrypted);
      const data = randomBytes(3 * chunk + 5);
      const whole = writtenWhole(data, encrypted);
      for (const cuts of [[], [chunk], [chunk, 3 * chunk]]) {
        const pieces = writtenInPieces(cutAt(data, cuts), encrypted);
        expect(summary(pieces.frames)).toEqual(summary(whole.frames));
        expect(pieces.slot.sha256).toBe(whole.slot.sha256);
      }
    });

    it(`a stream in any pieces: non-empty chunks of at most 64 KiB, one LAST_CHUNK, the same bytes (${label})`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...SIZES),
          fc.array(fc.nat(), { maxLength: 6 }),
          (size, cuts) => {
            const data = randomBytes(size);
            const { frames, slot } = writtenInPieces(cutAt(data, cuts), encrypted);
            const chunks = frames.slice(1);
            expect(chunks.at(-1)!.type).toBe(FrameType.LAST_CHUNK);
            for (const frame of chunks.slice(0, -1)) {
              expect(frame.type).toBe(FrameType.CHUNK);
              expect(frame.payload.length).toBeGreaterThan(0);
              expect(frame.payload.length).toBeLessThanOrEqual(CHUNK_PLAINTEXT_BYTES);
            }
            expect(Buffer.concat(chunks.map((frame) => frame.payload)).equals(data)).toBe(true);
            expect(slot.bytes).toBe(size);
            expect(slot.sha256).toBe(sha256(data));
          },
        ),
        { numRuns: 25 },
      );
    });
  }

  it("a JSON dictionary's text makes the same frames as its bytes", () => {
    for (const text of ['{"a":1}', `{"a":"${"é".repeat(CHUNK_PLAINTEXT_BYTES)}"}`]) {
      const fromText = writtenWhole(text, false);
      const fromBytes = writtenWhole(Buffer.from(text, "utf8"), false);
      expect(summary(fromText.frames)).toEqual(summary(fromBytes.frames));
      expect(fromText.slot.sha256).toBe(fromBytes.slot.sha256);
      expect(fromText.slot.bytes).toBe(Buffer.byteLength(text));
    }
  });

  for (const encrypted of [false, true]) {
    it(`gives each piece back once, after its last chunk is written (${encrypted ? "through records" : "plain"})`, async () => {
      const { writer, frames } = recorder(encrypted);
      const slot = slotFor({ kind: "file", name: "f", size: null });
      const recycled: Uint8Array[] = [];
      const chunker = ItemChunker.begin(writer, slot, { recycle: (piece) => recycled.push(piece) });
      const first = randomBytes(CHUNK_PLAINTEXT_BYTES + 10);
      const empty = Buffer.alloc(0);
      const second = randomBytes(100);
      chunker.add(first);
      // The last chunk of `first` is held back: its piece is still in use.
      expect(recycled).toHaveLength(0);
      chunker.add(empty);
      expect(recycled).toHaveLength(1);
      chunker.add(second);
      chunker.end();
      frames();
      // A socket calls back once the bytes are out: after this turn.
      await new Promise((resolve) => setImmediate(resolve));
      expect(recycled).toHaveLength(3);
      expect(recycled[0]).toBe(empty);
      expect(recycled[1]).toBe(first);
      expect(recycled[2]).toBe(second);
    });
  }

  for (const encrypted of [false, true]) {
    it(`a whole payload is given back once, after its frames are written (${encrypted ? "through records" : "plain"})`, async () => {
      for (const size of [0, 100, 4096, CHUNK_PLAINTEXT_BYTES + 1]) {
        const { writer, frames } = recorder(encrypted);
        const slot = slotFor({ kind: "file", name: "f", size });
        const recycled: Uint8Array[] = [];
        const payload = randomBytes(size);
        const original = Buffer.from(payload);
        // Memory given back is used again at once: here, overwritten.
        const recycle = (piece: Uint8Array): void => {
          recycled.push(piece);
          piece.fill(0);
        };
        ItemChunker.begin(writer, slot, { recycle }).writeWhole(payload);
        // Not before its bytes are out (an empty one has none to wait for).
        expect(recycled).toHaveLength(size === 0 ? 1 : 0);
        const written = frames();
        await new Promise((resolve) => setImmediate(resolve));
        expect(recycled).toEqual([payload]);
        expect(recycled[0]).toBe(payload);
        // What went out is the payload as it was, not what its memory holds since.
        const data = Buffer.concat(written.slice(1).map((frame) => frame.payload));
        expect(data.equals(original)).toBe(true);
      }
    });
  }

  for (const encrypted of [false, true]) {
    it(`[K-ABORT] abort() ends the item with an empty LAST_CHUNK and drops the held chunk (${encrypted ? "through records" : "plain"})`, () => {
      const { writer, frames } = recorder(encrypted);
      const slot = slotFor({ kind: "file", name: "f", size: null });
      const chunker = ItemChunker.begin(writer, slot);
      chunker.add(randomBytes(chunkBytes(encrypted) + 1));
      chunker.abort();
      const written = frames().slice(1);
      expect(written.map((frame) => [frame.type, frame.payload.length])).toEqual([
        [FrameType.CHUNK, chunkBytes(encrypted)],
        [FrameType.LAST_CHUNK, 0],
      ]);
      // Never all sent: no receipt may answer it, and it has no SHA-256.
      expect(slot.sent).toBe(false);
      expect(slot.sha256).toBeUndefined();
    });
  }

  for (const recycling of [false, true]) {
    it(`[R-ALIGN] through records, every full chunk's frame fills one record of its own${recycling ? " (pieces recycled)" : ""}`, () => {
      const { writer, bytes } = recorder(true);
      const slot = slotFor({ kind: "file", name: "f", size: null });
      // With recycling, chunks go by writeFrameThen; without, by writeFrame.
      const chunker = ItemChunker.begin(
        writer,
        slot,
        recycling ? { recycle: () => undefined } : {},
      );
      // A piece's last chunk goes by writeFrameThen when recycling. A short chunk comes
      // before the last, full one: its frame must not share that one's record.
      const pieces = [
        randomBytes(2 * RECORD_CHUNK_BYTES),
        randomBytes(7),
        randomBytes(RECORD_CHUNK_BYTES),
      ];
      for (const piece of pieces) chunker.add(piece);
      chunker.end();
      const opener = new RecordOpener(cipher());
      const records = opener.push(bytes());
      expect(opener.atBoundary).toBe(true);
      const full = records.filter((record) => record.length === MAX_RECORD_PLAINTEXT_BYTES);
      // Three full chunks, each a whole frame alone in its record; the last is LAST_CHUNK.
      expect(full.map((record) => [record[0], record.readUInt32BE(1)])).toEqual([
        [FrameType.CHUNK, RECORD_CHUNK_BYTES],
        [FrameType.CHUNK, RECORD_CHUNK_BYTES],
        [FrameType.LAST_CHUNK, RECORD_CHUNK_BYTES],
      ]);
    });
  }

  it("[K-RECEIPT-SESSION] with digest: false, the same frames go out, the item is sent, and no SHA-256 is computed", () => {
    const data = randomBytes(2 * CHUNK_PLAINTEXT_BYTES + 7);
    const hashed = writtenInPieces([data], true);
    const { writer, frames } = recorder(true);
    const streamed = slotFor({ kind: "file", name: "f", size: data.length });
    const chunker = ItemChunker.begin(writer, streamed, { digest: false });
    chunker.add(data);
    chunker.end();
    const whole = slotFor({ kind: "dict", format: "json", name: "d.json", size: 9 });
    ItemChunker.begin(recorder(true).writer, whole, { digest: false }).writeWhole('{"a":1.0}');
    expect(summary(frames().slice(1))).toEqual(summary(hashed.frames.slice(1)));
    expect(hashed.slot.sha256).toBe(sha256(data));
    for (const slot of [streamed, whole]) {
      expect(slot.sent).toBe(true);
      expect(slot.sha256).toBeUndefined();
    }
    expect(streamed.bytes).toBe(data.length);
  });
});
