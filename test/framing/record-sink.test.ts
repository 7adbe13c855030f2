/**
 * RecordSink [R-RECORD]: what a FrameWriter writes in one turn leaves as records of at
 * most 65519 plaintext bytes, the last one short, in one corked batch; a write's callback
 * runs once the record holding its last byte is out.
 */
import { describe, expect, it } from "vitest";
import { MAX_RECORD_PLAINTEXT_BYTES } from "../../src/crypto/constants.js";
import { CipherState } from "../../src/crypto/noise/cipher-state.js";
import { RecordOpener } from "../../src/crypto/record-opener.js";
import { RecordSealer } from "../../src/crypto/record-sealer.js";
import { FRAME_HEADER_BYTES } from "../../src/framing/frame.js";
import { FrameWriter, type FrameSink } from "../../src/framing/frame-writer.js";
import { RecordSink } from "../../src/framing/record-sink.js";

const KEY = Buffer.alloc(32, 9);

function cipher(): CipherState {
  const state = new CipherState();
  state.initializeKey(KEY);
  return state;
}

/** A socket that keeps what it is given, counts its corked batches, and calls back at once. */
class FakeSocket implements FrameSink {
  readonly writes: Buffer[] = [];
  batches = 0;
  destroyed = false;
  writableEnded = false;
  writableNeedDrain = false;
  #corked = 0;
  write(chunk: Uint8Array, callback?: () => void): boolean {
    this.writes.push(Buffer.from(chunk));
    if (callback !== undefined) queueMicrotask(callback);
    return true;
  }
  end(): void {
    this.writableEnded = true;
  }
  cork(): void {
    this.#corked++;
  }
  uncork(): void {
    this.#corked--;
    if (this.#corked === 0) this.batches++;
  }
  on(): this {
    return this;
  }
  off(): this {
    return this;
  }
}

/**
 * The record lengths (plaintext bytes) in `bytes`, each record's plaintext, and their
 * joined plaintext.
 */
function records(bytes: Buffer): { lengths: number[]; each: Buffer[]; plaintext: Buffer } {
  const opener = new RecordOpener(cipher());
  const lengths: number[] = [];
  const plaintexts: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = bytes.readUInt16BE(at) + 2;
    const opened = opener.push(bytes.subarray(at, at + length));
    expect(opened).toHaveLength(1);
    lengths.push(...opened.map((p) => p.length));
    plaintexts.push(...opened);
    at += length;
  }
  expect(opener.failure).toBeUndefined();
  return { lengths, each: plaintexts, plaintext: Buffer.concat(plaintexts) };
}

/** A frame's 5-byte header [F-HEADER]. */
function frameHeader(type: number, length: number): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header[0] = type;
  header.writeUInt32BE(length, 1);
  return header;
}

describe("RecordSink", () => {
  it("[R-RECORD] a turn's writes leave as full records, then one short record, in one batch", () => {
    const socket = new FakeSocket();
    const sink = new RecordSink(socket, new RecordSealer(cipher()));
    const data = Buffer.alloc(3 * MAX_RECORD_PLAINTEXT_BYTES + 100, 3);
    sink.cork();
    for (let at = 0; at < data.length; at += 10_000) sink.write(data.subarray(at, at + 10_000));
    // Full records are sealed as soon as they are there; the rest waits for the uncork.
    expect(records(Buffer.concat(socket.writes)).lengths).toEqual([
      MAX_RECORD_PLAINTEXT_BYTES,
      MAX_RECORD_PLAINTEXT_BYTES,
      MAX_RECORD_PLAINTEXT_BYTES,
    ]);
    sink.uncork();
    const { lengths, plaintext } = records(Buffer.concat(socket.writes));
    expect(lengths).toEqual([
      MAX_RECORD_PLAINTEXT_BYTES,
      MAX_RECORD_PLAINTEXT_BYTES,
      MAX_RECORD_PLAINTEXT_BYTES,
      100,
    ]);
    expect(plaintext.equals(data)).toBe(true);
  });

  it("[R-RECORD] through a FrameWriter: the small frames of one turn make one record", async () => {
    const socket = new FakeSocket();
    const writer = new FrameWriter(new RecordSink(socket, new RecordSealer(cipher())));
    for (let i = 0; i < 50; i++) writer.writeTextFrame(5, `{"id":${i}}`);
    await new Promise((resolve) => setImmediate(resolve));
    const { lengths } = records(Buffer.concat(socket.writes));
    expect(lengths).toHaveLength(1);
    expect(socket.batches).toBeGreaterThanOrEqual(1);
  });

  it("calls a write's callback once the record holding its last byte was written", async () => {
    const socket = new FakeSocket();
    const sink = new RecordSink(socket, new RecordSealer(cipher()));
    const called: string[] = [];
    sink.cork();
    sink.write(Buffer.alloc(10), () => called.push("small"));
    sink.write(Buffer.alloc(MAX_RECORD_PLAINTEXT_BYTES), () => called.push("large"));
    sink.write(Buffer.alloc(0), () => called.push("empty"));
    await Promise.resolve();
    // The first record (10 + 65509 bytes) holds only the small write's end.
    expect(called).toEqual(["small"]);
    sink.uncork();
    await new Promise((resolve) => setImmediate(resolve));
    expect(called).toEqual(["small", "large", "empty"]);
  });

  it("seals at once when not corked, and ends the socket after sealing what is left", () => {
    const socket = new FakeSocket();
    const sink = new RecordSink(socket, new RecordSealer(cipher()));
    sink.write(Buffer.from("now"));
    expect(records(Buffer.concat(socket.writes)).lengths).toEqual([3]);
    sink.cork();
    sink.write(Buffer.from("later"));
    sink.end();
    expect(records(Buffer.concat(socket.writes)).lengths).toEqual([3, 5]);
    expect(socket.writableEnded).toBe(true);
  });

  it("[R-ALIGN] a frame that does not fit in what is left of a record starts one of its own", async () => {
    const socket = new FakeSocket();
    const writer = new FrameWriter(new RecordSink(socket, new RecordSealer(cipher())));
    const payloadBytes = MAX_RECORD_PLAINTEXT_BYTES - FRAME_HEADER_BYTES;
    expect(writer.payloadBytesPerRecord).toBe(payloadBytes);
    const payloads = [1, 2, 3].map((n) => Buffer.alloc(payloadBytes, n));
    writer.writeTextFrame(2, '{"id":1}');
    for (const payload of payloads) writer.writeFrame(3, payload);
    // A frame of its own size on top of a record with room left: the record is cut there.
    writer.writeTextFrame(5, "x".repeat(100));
    writer.writeFrame(3, Buffer.alloc(MAX_RECORD_PLAINTEXT_BYTES - 50, 4));
    await new Promise((resolve) => setImmediate(resolve));
    const { lengths, each } = records(Buffer.concat(socket.writes));
    expect(lengths).toEqual([
      FRAME_HEADER_BYTES + 8,
      MAX_RECORD_PLAINTEXT_BYTES,
      MAX_RECORD_PLAINTEXT_BYTES,
      MAX_RECORD_PLAINTEXT_BYTES,
      FRAME_HEADER_BYTES + 100,
      FRAME_HEADER_BYTES + MAX_RECORD_PLAINTEXT_BYTES - 50,
    ]);
    // Each full record is one whole frame: its header, then its payload.
    for (const [index, payload] of payloads.entries()) {
      const record = each[index + 1]!;
      expect(record.subarray(0, FRAME_HEADER_BYTES)).toEqual(frameHeader(3, payloadBytes));
      expect(record.subarray(FRAME_HEADER_BYTES).equals(payload)).toBe(true);
    }
  });

  it("[R-ALIGN] keepTogether cuts a record only for a frame that fits in one, while corked", () => {
    const socket = new FakeSocket();
    const sink = new RecordSink(socket, new RecordSealer(cipher()));
    expect(sink.recordPlaintextBytes).toBe(MAX_RECORD_PLAINTEXT_BYTES);
    sink.cork();
    sink.write(Buffer.alloc(100, 1));
    // Fits in what is left: nothing sealed.
    sink.keepTogether(MAX_RECORD_PLAINTEXT_BYTES - 100);
    // Larger than any record: it will span records anyway, nothing sealed.
    sink.keepTogether(MAX_RECORD_PLAINTEXT_BYTES + 1);
    expect(socket.writes).toHaveLength(0);
    // Fits in a record of its own but not in what is left: the 100 bytes go out now.
    sink.keepTogether(MAX_RECORD_PLAINTEXT_BYTES - 99);
    expect(records(Buffer.concat(socket.writes)).lengths).toEqual([100]);
    // Nothing held: nothing to seal.
    sink.keepTogether(MAX_RECORD_PLAINTEXT_BYTES);
    expect(records(Buffer.concat(socket.writes)).lengths).toEqual([100]);
    sink.uncork();
  });

  it("[R-ALIGN] a plain socket has no records to fill", () => {
    const writer = new FrameWriter(new FakeSocket());
    expect(writer.payloadBytesPerRecord).toBeUndefined();
  });
});
