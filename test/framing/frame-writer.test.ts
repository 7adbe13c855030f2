import fc from "fast-check";
import { EventEmitter } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, GbError, NetworkError } from "../../src/errors.js";
import { encodeFrame, FRAME_HEADER_BYTES } from "../../src/framing/frame.js";
import { FrameParser, type ParsedUnit } from "../../src/framing/frame-parser.js";
import {
  COPY_PAYLOAD_BELOW_BYTES,
  FrameWriter,
  STAGING_BLOCK_BYTES,
} from "../../src/framing/frame-writer.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import {
  CLIENT_FRAME_LIMITS,
  FrameType,
  MAX_CHUNK_FRAME_BYTES,
  PROTOCOL_VERSION,
} from "../../src/protocol/constants.js";
import { withTimeout } from "../support/with-timeout.js";

/** Bound for every wait in these tests. */
const WAIT_MS = 10_000;

/** Resolves after the writer's end-of-turn flush (scheduled earlier with setImmediate). */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Bytes whose value depends on their position and `seed`. */
function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7) & 0xff;
  return bytes;
}

type SinkEvent =
  | { readonly op: "cork" | "uncork" | "end" }
  | { readonly op: "write"; readonly chunk: Uint8Array; readonly copy: Buffer };

/** A FrameSink that records every call, in order, with a copy of each written chunk. */
class FakeSink extends EventEmitter {
  readonly events: SinkEvent[] = [];
  writableNeedDrain = false;
  destroyed = false;
  writableEnded = false;
  /** What write() returns; by default, whether the buffer has room. */
  writeResult: (() => boolean) | undefined;

  /** Callbacks of writes not yet completed, in order (see {@link completeWrites}). */
  readonly pendingCallbacks: (() => void)[] = [];

  write(chunk: Uint8Array, callback?: () => void): boolean {
    this.events.push({ op: "write", chunk, copy: Buffer.from(chunk) });
    this.pendingCallbacks.push(callback ?? (() => undefined));
    return this.writeResult === undefined ? !this.writableNeedDrain : this.writeResult();
  }

  /** Completes the first `count` writes not yet completed, as a socket would, in order. */
  completeWrites(count = this.pendingCallbacks.length): void {
    for (const callback of this.pendingCallbacks.splice(0, count)) callback();
  }

  cork(): void {
    this.events.push({ op: "cork" });
  }

  uncork(): void {
    this.events.push({ op: "uncork" });
  }

  end(): this {
    this.events.push({ op: "end" });
    this.writableEnded = true;
    return this;
  }

  get ops(): string[] {
    return this.events.map((event) => event.op);
  }

  get chunks(): Uint8Array[] {
    return this.events.flatMap((event) => (event.op === "write" ? [event.chunk] : []));
  }

  /** The bytes on the wire, as they were when each was handed over. */
  get wire(): Buffer {
    return Buffer.concat(
      this.events.flatMap((event) => (event.op === "write" ? [event.copy] : [])),
    );
  }

  /** Throws unless every chunk still holds the bytes it held when it was written. */
  expectChunksUntouched(): void {
    for (const event of this.events) {
      if (event.op === "write") expect(Buffer.from(event.chunk).equals(event.copy)).toBe(true);
    }
  }

  count(op: SinkEvent["op"]): number {
    return this.events.filter((event) => event.op === op).length;
  }
}

function fakeWriter(): { sink: FakeSink; writer: FrameWriter } {
  const sink = new FakeSink();
  return { sink, writer: new FrameWriter(sink) };
}

interface FrameSpec {
  readonly type: number;
  readonly parts: readonly Buffer[];
}

function expectedWire(frames: readonly FrameSpec[], preamble = false): Buffer {
  return Buffer.concat([
    ...(preamble ? [encodePreamble(PROTOCOL_VERSION)] : []),
    ...frames.map((frame) => encodeFrame(frame.type, Buffer.concat(frame.parts))),
  ]);
}

/** A mix of sizes around every threshold of the writer. */
function mixedFrames(): FrameSpec[] {
  const frames: FrameSpec[] = [
    { type: FrameType.ITEM, parts: [Buffer.from('{"id":1,"kind":"dict"}')] },
    { type: FrameType.LAST_CHUNK, parts: [pattern(COPY_PAYLOAD_BELOW_BYTES - 1, 1)] },
    { type: FrameType.CHUNK, parts: [pattern(COPY_PAYLOAD_BELOW_BYTES, 2)] },
    { type: FrameType.CHUNK, parts: [pattern(COPY_PAYLOAD_BELOW_BYTES + 1, 3)] },
    { type: FrameType.LAST_CHUNK, parts: [] },
    { type: FrameType.LAST_CHUNK, parts: [Buffer.alloc(0)] },
    { type: FrameType.ITEM, parts: [Buffer.from("{"), Buffer.alloc(0), Buffer.from('"a":1}')] },
    { type: FrameType.CHUNK, parts: [pattern(10, 4), pattern(MAX_CHUNK_FRAME_BYTES - 10, 5)] },
    { type: FrameType.CHUNK, parts: [pattern(2000, 6), pattern(2000, 7), pattern(95, 8)] },
  ];
  // Enough small frames to fill several staging blocks.
  for (let index = 0; index < 400; index++) {
    frames.push({ type: FrameType.ITEM, parts: [pattern(200 + (index % 50), index)] });
  }
  frames.push({ type: FrameType.LAST_CHUNK, parts: [pattern(1, 9)] });
  return frames;
}

describe("FrameWriter on the wire", () => {
  it("writes the preamble, then each header and payload, exactly and in order", async () => {
    const { sink, writer } = fakeWriter();
    const frames = mixedFrames();
    writer.writePreamble(PROTOCOL_VERSION);
    for (const frame of frames) writer.writeFrame(frame.type, ...frame.parts);
    writer.flush();
    expect(sink.wire.equals(expectedWire(frames, true))).toBe(true);
    await endOfTurn();
    expect(sink.wire.equals(expectedWire(frames, true))).toBe(true);
    sink.expectChunksUntouched();
  });

  it("writes a zero-length payload as a bare header", () => {
    const { sink, writer } = fakeWriter();
    writer.writeFrame(0x04);
    writer.writeFrame(0x03, Buffer.alloc(0));
    writer.writeFrame(0x02, Buffer.alloc(0), new Uint8Array(0));
    writer.flush();
    expect(sink.wire.toString("hex")).toBe("04000000000300000000" + "0200000000");
  });

  it("copies a payload one byte under COPY_PAYLOAD_BELOW_BYTES: the caller may reuse it", () => {
    const { sink, writer } = fakeWriter();
    const payload = pattern(COPY_PAYLOAD_BELOW_BYTES - 1, 1);
    const expected = encodeFrame(0x03, payload);
    writer.writeFrame(0x03, payload);
    payload.fill(0xee); // reused by the caller before the writer flushed
    writer.flush();
    expect(sink.wire.equals(expected)).toBe(true);
    expect(sink.chunks).not.toContain(payload);
    sink.expectChunksUntouched();
  });

  it.each([
    ["at", COPY_PAYLOAD_BELOW_BYTES],
    ["one above", COPY_PAYLOAD_BELOW_BYTES + 1],
    ["far above", MAX_CHUNK_FRAME_BYTES],
  ])("passes a payload %s COPY_PAYLOAD_BELOW_BYTES by reference", (_name, size) => {
    const { sink, writer } = fakeWriter();
    const payload = pattern(size, 2);
    writer.writeFrame(0x03, payload);
    // The header goes first, then the caller's very buffer, with no copy.
    expect(sink.chunks).toHaveLength(2);
    expect(
      Buffer.from(sink.chunks[0]!).equals(
        encodeFrame(0x03, payload).subarray(0, FRAME_HEADER_BYTES),
      ),
    ).toBe(true);
    expect(sink.chunks[1]).toBe(payload);
    writer.flush();
    expect(sink.chunks).toHaveLength(2);
    expect(sink.wire.equals(encodeFrame(0x03, payload))).toBe(true);
  });

  it("passes every non-empty part of a large multi-part payload by reference", () => {
    const { sink, writer } = fakeWriter();
    writer.writeFrame(0x02, Buffer.from("small first"));
    const parts = [
      Buffer.from("tiny"),
      Buffer.alloc(0),
      pattern(COPY_PAYLOAD_BELOW_BYTES - 4, 3),
      Buffer.from("!"),
    ];
    writer.writeFrame(0x03, ...parts);
    // The staged frame and header leave as one buffer, then each part as itself.
    expect(sink.chunks).toHaveLength(4);
    expect(
      Buffer.from(sink.chunks[0]!).equals(
        Buffer.concat([
          encodeFrame(0x02, Buffer.from("small first")),
          encodeFrame(0x03, Buffer.concat(parts)).subarray(0, FRAME_HEADER_BYTES),
        ]),
      ),
    ).toBe(true);
    expect(sink.chunks[1]).toBe(parts[0]);
    expect(sink.chunks[2]).toBe(parts[2]);
    expect(sink.chunks[3]).toBe(parts[3]);
    writer.flush();
    expect(
      sink.wire.equals(
        Buffer.concat([
          encodeFrame(0x02, Buffer.from("small first")),
          encodeFrame(0x03, Buffer.concat(parts)),
        ]),
      ),
    ).toBe(true);
  });

  it("joins a small multi-part payload into the staging block", () => {
    const { sink, writer } = fakeWriter();
    const parts = [Buffer.from("ab"), Buffer.alloc(0), Buffer.from("cde")];
    writer.writeFrame(0x02, ...parts);
    expect(sink.chunks).toHaveLength(0);
    writer.flush();
    expect(sink.chunks).toHaveLength(1);
    expect(sink.wire.toString("hex")).toBe("0200000005" + Buffer.from("abcde").toString("hex"));
    for (const part of parts) expect(sink.chunks).not.toContain(part);
  });

  it("sends many small frames, more than several staging blocks, as a few large buffers", () => {
    const { sink, writer } = fakeWriter();
    const frames: FrameSpec[] = Array.from({ length: 2000 }, (_, index) => ({
      type: FrameType.ITEM,
      parts: [pattern(100 + (index % 97), index)],
    }));
    const expected = expectedWire(frames);
    expect(expected.length).toBeGreaterThan(3 * STAGING_BLOCK_BYTES);
    for (const frame of frames) writer.writeFrame(frame.type, ...frame.parts);
    writer.flush();
    expect(sink.wire.equals(expected)).toBe(true);
    sink.expectChunksUntouched();
    for (const chunk of sink.chunks) expect(chunk.length).toBeLessThanOrEqual(STAGING_BLOCK_BYTES);
    // Blocks double up to STAGING_BLOCK_BYTES (from 512 bytes: 7 smaller ones first): far fewer writes than frames.
    expect(sink.chunks.length).toBeLessThanOrEqual(
      Math.ceil(expected.length / STAGING_BLOCK_BYTES) + 8,
    );
  });

  it("stages a small frame larger than the room left in the block, whole and in order", () => {
    const { sink, writer } = fakeWriter();
    const frames: FrameSpec[] = [
      { type: 0x02, parts: [pattern(3000, 1)] },
      { type: 0x03, parts: [pattern(COPY_PAYLOAD_BELOW_BYTES - 1, 2)] },
      { type: 0x03, parts: [pattern(COPY_PAYLOAD_BELOW_BYTES - 1, 3)] },
      { type: 0x02, parts: [pattern(7, 4)] },
    ];
    for (const frame of frames) writer.writeFrame(frame.type, ...frame.parts);
    writer.flush();
    expect(sink.wire.equals(expectedWire(frames))).toBe(true);
    sink.expectChunksUntouched();
  });

  it("puts any mix of frames, flushes and turns on the wire exactly (property)", async () => {
    const part = fc.oneof(
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: COPY_PAYLOAD_BELOW_BYTES - 8, max: COPY_PAYLOAD_BELOW_BYTES + 8 }),
      fc.integer({ min: 0, max: 3 * COPY_PAYLOAD_BELOW_BYTES }),
    );
    const action = fc.oneof(
      { weight: 6, arbitrary: fc.array(part, { maxLength: 4 }).map((sizes) => ({ sizes })) },
      { weight: 1, arbitrary: fc.constant("flush" as const) },
      { weight: 1, arbitrary: fc.constant("turn" as const) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 40 }), async (actions) => {
        const { sink, writer } = fakeWriter();
        const frames: FrameSpec[] = [];
        const byReference: Buffer[] = [];
        writer.writePreamble(PROTOCOL_VERSION);
        for (const current of actions) {
          if (current === "flush") writer.flush();
          else if (current === "turn") await endOfTurn();
          else {
            const parts = current.sizes.map((size, index) => pattern(size, frames.length + index));
            const length = parts.reduce((sum, piece) => sum + piece.length, 0);
            if (length >= COPY_PAYLOAD_BELOW_BYTES) {
              byReference.push(...parts.filter((piece) => piece.length > 0));
            }
            frames.push({ type: FrameType.CHUNK, parts });
            writer.writeFrame(FrameType.CHUNK, ...parts);
          }
        }
        await endOfTurn();
        expect(sink.wire.equals(expectedWire(frames, true))).toBe(true);
        sink.expectChunksUntouched();
        for (const piece of byReference) expect(sink.chunks).toContain(piece);
        expect(sink.count("uncork")).toBe(sink.count("cork"));
      }),
      { numRuns: 60 },
    );
  });
});

describe("FrameWriter batching", () => {
  it("holds small frames until the end of the event-loop turn, under one cork", async () => {
    const { sink, writer } = fakeWriter();
    writer.writePreamble(PROTOCOL_VERSION);
    writer.writeFrame(0x02, Buffer.from("one"));
    writer.writeFrame(0x02, Buffer.from("two"));
    expect(sink.ops).toEqual(["cork"]);
    await endOfTurn();
    expect(sink.ops).toEqual(["cork", "write", "uncork"]);
    expect(
      sink.wire.equals(
        Buffer.concat([
          encodePreamble(PROTOCOL_VERSION),
          encodeFrame(0x02, Buffer.from("one")),
          encodeFrame(0x02, Buffer.from("two")),
        ]),
      ),
    ).toBe(true);
  });

  it("keeps large payloads corked until the end of the turn", async () => {
    const { sink, writer } = fakeWriter();
    writer.writeFrame(0x03, pattern(COPY_PAYLOAD_BELOW_BYTES, 1));
    expect(sink.ops).toEqual(["cork", "write", "write"]);
    await endOfTurn();
    expect(sink.ops).toEqual(["cork", "write", "write", "uncork"]);
  });

  it("flush() hands staged frames over and uncorks at once, and only once", async () => {
    const { sink, writer } = fakeWriter();
    writer.writeFrame(0x02, Buffer.from("now"));
    writer.flush();
    expect(sink.ops).toEqual(["cork", "write", "uncork"]);
    expect(sink.wire.equals(encodeFrame(0x02, Buffer.from("now")))).toBe(true);
    writer.flush();
    await endOfTurn();
    expect(sink.ops).toEqual(["cork", "write", "uncork"]);
  });

  it("corks again for frames written after a flush in the same turn, and balances every cork", async () => {
    const { sink, writer } = fakeWriter();
    writer.writeFrame(0x02, Buffer.from("a"));
    writer.flush();
    writer.writeFrame(0x02, Buffer.from("b"));
    expect(sink.ops).toEqual(["cork", "write", "uncork", "cork"]);
    await endOfTurn();
    expect(sink.ops).toEqual(["cork", "write", "uncork", "cork", "write", "uncork"]);
    expect(
      sink.wire.equals(
        Buffer.concat([encodeFrame(0x02, Buffer.from("a")), encodeFrame(0x02, Buffer.from("b"))]),
      ),
    ).toBe(true);
  });

  it("end() sends staged frames before it ends the socket", async () => {
    const { sink, writer } = fakeWriter();
    writer.writeFrame(0x02, Buffer.from("last words"));
    expect(writer.closed).toBe(false);
    writer.end();
    expect(sink.ops).toEqual(["cork", "write", "uncork", "end"]);
    expect(sink.wire.equals(encodeFrame(0x02, Buffer.from("last words")))).toBe(true);
    expect(writer.closed).toBe(true);
    await endOfTurn();
    // Nothing is written after the end.
    expect(sink.ops).toEqual(["cork", "write", "uncork", "end"]);
  });
});

describe("FrameWriter back-pressure", () => {
  it("writeFrame returns false for a staged frame while the sink needs to drain", () => {
    const { sink, writer } = fakeWriter();
    expect(writer.writeFrame(0x02, Buffer.from("a"))).toBe(true);
    sink.writableNeedDrain = true;
    expect(writer.writeFrame(0x02, Buffer.from("b"))).toBe(false);
    expect(writer.writeFrame(0x02)).toBe(false);
    sink.writableNeedDrain = false;
    expect(writer.writeFrame(0x02, Buffer.from("c"))).toBe(true);
  });

  it("writeFrame returns what the sink's write of a large payload returned", () => {
    const { sink, writer } = fakeWriter();
    sink.writeResult = () => true;
    expect(writer.writeFrame(0x03, pattern(COPY_PAYLOAD_BELOW_BYTES, 1))).toBe(true);
    sink.writeResult = () => false;
    sink.writableNeedDrain = true;
    expect(writer.writeFrame(0x03, pattern(COPY_PAYLOAD_BELOW_BYTES, 2))).toBe(false);
  });

  it("writePreamble returns false while the sink needs to drain", () => {
    const { sink, writer } = fakeWriter();
    sink.writableNeedDrain = true;
    expect(writer.writePreamble(PROTOCOL_VERSION)).toBe(false);
  });

  it("drain() resolves at once when the sink has room, and flushes first", async () => {
    const { sink, writer } = fakeWriter();
    writer.writeFrame(0x02, Buffer.from("x"));
    const drained = writer.drain();
    expect(sink.ops).toEqual(["cork", "write", "uncork"]);
    await expect(withTimeout(drained, WAIT_MS, "drain")).resolves.toBeUndefined();
    expect(sink.listenerCount("drain")).toBe(0);
    expect(sink.listenerCount("close")).toBe(0);
  });

  it("drain() resolves on 'drain', not before, and removes its listeners", async () => {
    const { sink, writer } = fakeWriter();
    sink.writableNeedDrain = true;
    writer.writeFrame(0x02, Buffer.from("x"));
    let settled = false;
    const drained = writer.drain().finally(() => {
      settled = true;
    });
    // The staged frame went to the socket before the wait.
    expect(sink.ops).toEqual(["cork", "write", "uncork"]);
    await endOfTurn();
    expect(settled).toBe(false);
    sink.writableNeedDrain = false;
    sink.emit("drain");
    await expect(withTimeout(drained, WAIT_MS, "drain")).resolves.toBeUndefined();
    expect(sink.listenerCount("drain")).toBe(0);
    expect(sink.listenerCount("close")).toBe(0);
  });

  it("drain() rejects with CONNECTION_LOST on 'close', and removes its listeners", async () => {
    const { sink, writer } = fakeWriter();
    sink.writableNeedDrain = true;
    const drained = writer.drain();
    sink.emit("close");
    const error: unknown = await withTimeout(drained, WAIT_MS, "drain").catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toBeInstanceOf(GbError);
    expect((error as GbError).code).toBe(ErrorCode.CONNECTION_LOST);
    expect(sink.listenerCount("drain")).toBe(0);
    expect(sink.listenerCount("close")).toBe(0);
  });

  it("drain() rejects with CONNECTION_LOST at once when the socket is already destroyed", async () => {
    const { sink, writer } = fakeWriter();
    sink.writableNeedDrain = true;
    sink.destroyed = true;
    const error: unknown = await withTimeout(writer.drain(), WAIT_MS, "drain").catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(GbError);
    expect((error as GbError).code).toBe(ErrorCode.CONNECTION_LOST);
    expect(sink.listenerCount("close")).toBe(0);
  });
});

describe("FrameWriter on a loopback socket", () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(
      servers.splice(0).map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => {
              resolve();
            });
          }),
      ),
    );
  });

  /**
   * A server on 127.0.0.1 (port 0) that collects what one client sends until it ends.
   * `paused` keeps the server from reading until `resume` is called.
   */
  async function loopback(): Promise<{
    client: Socket;
    received: Promise<Buffer>;
    server: Socket;
  }> {
    let serverSocket: ((socket: Socket) => void) | undefined;
    const accepted = new Promise<Socket>((resolve) => (serverSocket = resolve));
    const server = createServer((socket) => {
      sockets.push(socket);
      serverSocket?.(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const client = connect(address.port, "127.0.0.1");
    sockets.push(client);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        client.once("connect", resolve);
        client.once("error", reject);
      }),
      WAIT_MS,
      "connect",
    );
    const socket = await withTimeout(accepted, WAIT_MS, "accept");
    const received = new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.once("end", () => {
        resolve(Buffer.concat(chunks));
      });
      socket.once("error", reject);
    });
    return { client, received, server: socket };
  }

  function parse(bytes: Buffer, maxUnits: number): ParsedUnit[] {
    const parser = new FrameParser(CLIENT_FRAME_LIMITS, { expectPreamble: true });
    parser.push(bytes);
    const units: ParsedUnit[] = [];
    for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
      units.push(unit);
      if (units.length > maxUnits) throw new Error("more units than were written");
    }
    expect(parser.atBoundary).toBe(true);
    return units;
  }

  function expectFrames(units: readonly ParsedUnit[], frames: readonly FrameSpec[]): void {
    expect(units[0]).toEqual({ kind: "preamble", version: PROTOCOL_VERSION });
    expect(units).toHaveLength(frames.length + 1);
    for (const [index, frame] of frames.entries()) {
      const unit = units[index + 1];
      if (unit?.kind !== "frame") throw new Error(`unit ${index + 1} is not a frame`);
      expect(unit.frame.type).toBe(frame.type);
      expect(unit.frame.payload.equals(Buffer.concat(frame.parts))).toBe(true);
    }
  }

  it("delivers a mix of frames, ended in the same turn, exactly and parseably", async () => {
    const { client, received } = await loopback();
    const writer = new FrameWriter(client);
    const frames = mixedFrames();
    writer.writePreamble(PROTOCOL_VERSION);
    for (const frame of frames) writer.writeFrame(frame.type, ...frame.parts);
    // end() in the same turn: the staged frames must not be lost behind the FIN.
    writer.end();
    const bytes = await withTimeout(received, WAIT_MS, "the client's bytes");
    expect(bytes.length).toBe(expectedWire(frames, true).length);
    expect(bytes.equals(expectedWire(frames, true))).toBe(true);
    expectFrames(parse(bytes, frames.length + 1), frames);
  });

  it("delivers a held preamble, sent with the first frame of a later turn", async () => {
    const { client, received } = await loopback();
    const writer = new FrameWriter(client);
    writer.holdPreamble(PROTOCOL_VERSION);
    await endOfTurn();
    const frames: FrameSpec[] = [{ type: FrameType.ITEM, parts: [Buffer.from('{"id":1}')] }];
    writer.writeFrame(FrameType.ITEM, ...frames[0]!.parts);
    writer.end();
    const bytes = await withTimeout(received, WAIT_MS, "the client's bytes");
    expect(bytes.equals(expectedWire(frames, true))).toBe(true);
    expectFrames(parse(bytes, 2), frames);
  });

  it("reports back-pressure and resumes after drain(), losing nothing", async () => {
    const { client, received } = await loopback();
    const writer = new FrameWriter(client);
    const frames: FrameSpec[] = [];
    let waits = 0;
    writer.writePreamble(PROTOCOL_VERSION);
    for (let index = 0; index < 48; index++) {
      const frame: FrameSpec = {
        type: index % 3 === 0 ? FrameType.ITEM : FrameType.CHUNK,
        parts: [pattern(index % 3 === 0 ? 300 : MAX_CHUNK_FRAME_BYTES, index)],
      };
      frames.push(frame);
      if (!writer.writeFrame(frame.type, ...frame.parts)) {
        waits++;
        await withTimeout(writer.drain(), WAIT_MS, "drain");
      }
    }
    writer.end();
    const bytes = await withTimeout(received, WAIT_MS, "the client's bytes");
    expect(waits).toBeGreaterThan(0);
    expect(bytes.equals(expectedWire(frames, true))).toBe(true);
    expectFrames(parse(bytes, frames.length + 1), frames);
  });

  it("drain() rejects with CONNECTION_LOST when the socket closes while waiting", async () => {
    const { client, server } = await loopback();
    server.pause();
    const writer = new FrameWriter(client);
    expect(writer.writeFrame(FrameType.CHUNK, pattern(MAX_CHUNK_FRAME_BYTES, 1))).toBe(false);
    const drained = writer.drain();
    client.destroy();
    const error: unknown = await withTimeout(drained, WAIT_MS, "drain").catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(GbError);
    expect((error as GbError).code).toBe(ErrorCode.CONNECTION_LOST);
    expect(writer.closed).toBe(true);
  });
});

describe("FrameWriter.holdPreamble", () => {
  it("holds the preamble without corking or sending it, even past the end of the turn", async () => {
    const { sink, writer } = fakeWriter();
    writer.holdPreamble(PROTOCOL_VERSION);
    expect(sink.ops).toEqual([]);
    await endOfTurn();
    expect(sink.ops).toEqual([]);
  });

  it("sends the held preamble with the first frame, in one buffer", async () => {
    const { sink, writer } = fakeWriter();
    writer.holdPreamble(PROTOCOL_VERSION);
    writer.writeFrame(0x02, Buffer.from("first"));
    await endOfTurn();
    expect(sink.ops).toEqual(["cork", "write", "uncork"]);
    expect(
      sink.wire.equals(
        Buffer.concat([encodePreamble(PROTOCOL_VERSION), encodeFrame(0x02, Buffer.from("first"))]),
      ),
    ).toBe(true);
  });

  it("sends the held preamble before a large payload", () => {
    const { sink, writer } = fakeWriter();
    writer.holdPreamble(PROTOCOL_VERSION);
    const payload = pattern(COPY_PAYLOAD_BELOW_BYTES, 1);
    writer.writeFrame(0x03, payload);
    expect(sink.chunks[1]).toBe(payload);
    writer.flush();
    expect(
      sink.wire.equals(
        Buffer.concat([encodePreamble(PROTOCOL_VERSION), encodeFrame(0x03, payload)]),
      ),
    ).toBe(true);
  });

  it("flush() sends a held preamble", () => {
    const { sink, writer } = fakeWriter();
    writer.holdPreamble(PROTOCOL_VERSION);
    writer.flush();
    expect(sink.ops).toEqual(["write"]);
    expect(sink.wire.equals(encodePreamble(PROTOCOL_VERSION))).toBe(true);
  });

  it("end() sends a held preamble before it ends the socket", async () => {
    const { sink, writer } = fakeWriter();
    writer.holdPreamble(PROTOCOL_VERSION);
    writer.end();
    expect(sink.ops).toEqual(["write", "end"]);
    expect(sink.wire.equals(encodePreamble(PROTOCOL_VERSION))).toBe(true);
    await endOfTurn();
    expect(sink.ops).toEqual(["write", "end"]);
  });
});

describe("FrameWriter.writeFrameThen", () => {
  it("calls back for a payload written by reference only once the socket wrote it", () => {
    const { sink, writer } = fakeWriter();
    const payload = pattern(COPY_PAYLOAD_BELOW_BYTES, 1);
    let called = 0;
    writer.writeFrameThen(FrameType.CHUNK, payload, () => {
      called++;
    });
    expect(sink.chunks.at(-1)).toBe(payload);
    expect(called).toBe(0);
    sink.completeWrites();
    expect(called).toBe(1);
  });

  it("calls back for a copied payload only after earlier writes by reference are out", () => {
    // A read buffer's last chunk is short (copied) while its earlier chunks, written by
    // reference, still wait in the socket: the buffer may be reused only after those.
    const { sink, writer } = fakeWriter();
    const buffer = pattern(COPY_PAYLOAD_BELOW_BYTES + 100, 2);
    writer.writeFrame(FrameType.CHUNK, buffer.subarray(0, COPY_PAYLOAD_BELOW_BYTES));
    let called = 0;
    writer.writeFrameThen(FrameType.CHUNK, buffer.subarray(COPY_PAYLOAD_BELOW_BYTES), () => {
      called++;
    });
    const writes = sink.pendingCallbacks.length;
    sink.completeWrites(writes - 1);
    expect(called).toBe(0);
    sink.completeWrites();
    expect(called).toBe(1);
    writer.flush();
    expect(
      sink.wire.equals(
        Buffer.concat([
          encodeFrame(FrameType.CHUNK, buffer.subarray(0, COPY_PAYLOAD_BELOW_BYTES)),
          encodeFrame(FrameType.CHUNK, buffer.subarray(COPY_PAYLOAD_BELOW_BYTES)),
        ]),
      ),
    ).toBe(true);
  });
});

describe("FrameWriter.writeTextFrame", () => {
  const texts: readonly (readonly [string, string])[] = [
    ["empty", ""],
    ["ASCII JSON", '{"id":1,"receipt":{"kind":"dict"}}'],
    ["two-, three- and four-byte UTF-8", "é中😀".repeat(50)],
    ["a lone surrogate (written as U+FFFD, as Buffer.from does)", "a\ud800b"],
    ["just under the copy threshold in bytes", "x".repeat(COPY_PAYLOAD_BELOW_BYTES - 1)],
    ["at the copy threshold", "x".repeat(COPY_PAYLOAD_BELOW_BYTES)],
    ["far over the threshold, multi-byte", "中".repeat(COPY_PAYLOAD_BELOW_BYTES)],
  ];

  it.each(texts)("writes %s exactly as writeFrame of its UTF-8 bytes", async (_name, text) => {
    const { sink, writer } = fakeWriter();
    writer.writeFrame(FrameType.ITEM, Buffer.from("before"));
    writer.writeTextFrame(FrameType.RECEIPT, text);
    writer.writeFrame(FrameType.ITEM, Buffer.from("after"));
    await endOfTurn();
    const expected = Buffer.concat([
      encodeFrame(FrameType.ITEM, Buffer.from("before")),
      encodeFrame(FrameType.RECEIPT, Buffer.from(text, "utf8")),
      encodeFrame(FrameType.ITEM, Buffer.from("after")),
    ]);
    expect(sink.wire.equals(expected)).toBe(true);
  });

  it("fills several staging blocks with texts of every length and keeps them in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: "grapheme", maxLength: 300 }), { maxLength: 400 }),
        async (list) => {
          const { sink, writer } = fakeWriter();
          for (const text of list) writer.writeTextFrame(FrameType.ITEM, text);
          await endOfTurn();
          const expected = Buffer.concat(
            list.map((text) => encodeFrame(FrameType.ITEM, Buffer.from(text, "utf8"))),
          );
          expect(sink.wire.equals(expected)).toBe(true);
          sink.expectChunksUntouched();
        },
      ),
      { numRuns: 30 },
    );
  });

  it("reports back-pressure like writeFrame", () => {
    const { sink, writer } = fakeWriter();
    expect(writer.writeTextFrame(FrameType.ITEM, "a")).toBe(true);
    sink.writableNeedDrain = true;
    expect(writer.writeTextFrame(FrameType.ITEM, "b")).toBe(false);
  });
});
