import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../src/errors.js";
import { encodeFrame } from "../../src/framing/frame.js";
import {
  COALESCE_BELOW_BYTES,
  FrameParser,
  type ParsedUnit,
} from "../../src/framing/frame-parser.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import { protocolErrorCode } from "../support/protocol-error-code.js";

const LIMITS = new Map([
  [0x01, 16],
  [0x03, 1000],
]);
/** A CHUNK's limit, for the tests of large frames. */
const CHUNK_LIMITS = new Map([[0x03, 65536]]);

function parseAll(parser: FrameParser, pieces: readonly Buffer[]): ParsedUnit[] {
  const units: ParsedUnit[] = [];
  for (const piece of pieces) {
    parser.push(piece);
    for (let unit = parser.next(); unit !== undefined; unit = parser.next()) units.push(unit);
  }
  return units;
}

function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

describe("frame encoding [F-HEADER]", () => {
  it("lays out type, big-endian length and payload", () => {
    expect(encodeFrame(0x03, Buffer.from("hi")).toString("hex")).toBe("03000000026869");
  });

  it("encodes the preamble as GBTP CR LF and a u16 version [P-PREAMBLE]", () => {
    expect(encodePreamble(1).toString("hex")).toBe("474254500d0a0001");
  });
});

describe("FrameParser", () => {
  const stream = Buffer.concat([
    encodePreamble(1),
    encodeFrame(0x01, Buffer.from("0123456789abcdef")),
    encodeFrame(0x03, Buffer.alloc(0)),
    encodeFrame(0x03, Buffer.alloc(1000, 7)),
    encodeFrame(0x01, Buffer.from("x")),
  ]);
  const expected = [
    { kind: "preamble", version: 1 },
    { type: 0x01, payload: "0123456789abcdef" },
    { type: 0x03, payload: "" },
    { type: 0x03, payload: Buffer.alloc(1000, 7).toString("latin1") },
    { type: 0x01, payload: "x" },
  ];
  const simplify = (units: ParsedUnit[]): unknown[] =>
    units.map((unit) =>
      unit.kind === "preamble"
        ? unit
        : { type: unit.frame.type, payload: unit.frame.payload.toString("latin1") },
    );

  it("parses a whole stream at once", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: true });
    expect(simplify(parseAll(parser, [stream]))).toEqual(expected);
    expect(parser.atBoundary).toBe(true);
  });

  it("parses the same stream fed one byte at a time", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: true });
    const bytes = [...stream].map((byte) => Buffer.from([byte]));
    expect(simplify(parseAll(parser, bytes))).toEqual(expected);
  });

  it("parses the same stream split at random points", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const parser = new FrameParser(LIMITS, { expectPreamble: true });
        expect(simplify(parseAll(parser, splitAt(stream, cuts)))).toEqual(expected);
        expect(parser.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("hands a payload split across large reads over as views, not copies, and joins it on demand", () => {
    const payload = Buffer.alloc(2 * COALESCE_BELOW_BYTES, "abcdefghij");
    const bytes = encodeFrame(0x03, payload);
    const first = bytes.subarray(0, 5 + COALESCE_BELOW_BYTES); // header + the first half
    const second = bytes.subarray(5 + COALESCE_BELOW_BYTES);
    const parser = new FrameParser(CHUNK_LIMITS, { expectPreamble: false });
    const [unit] = parseAll(parser, [first, second]);
    if (unit?.kind !== "frame") throw new Error("expected a frame");
    expect(unit.frame.length).toBe(payload.length);
    expect(unit.frame.parts.map((part) => part.length)).toEqual([
      COALESCE_BELOW_BYTES,
      COALESCE_BELOW_BYTES,
    ]);
    // Views into the received buffers: same memory, no copy.
    expect(unit.frame.parts[0]?.buffer).toBe(first.buffer);
    expect(unit.frame.parts[1]?.buffer).toBe(second.buffer);
    expect(unit.frame.payload.equals(payload)).toBe(true);
    expect(unit.frame.payload).toBe(unit.frame.payload); // joined once
  });

  it("[F-COALESCE] a frame sent a byte at a time is held in a few buffers, not one per byte", () => {
    const payload = Buffer.alloc(65536, "x");
    const bytes = Buffer.concat([encodeFrame(0x03, payload), encodeFrame(0x03, payload)]);
    const parser = new FrameParser(CHUNK_LIMITS, { expectPreamble: false });
    let mostChunks = 0;
    const frames: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset++) {
      parser.push(bytes.subarray(offset, offset + 1));
      mostChunks = Math.max(mostChunks, parser.bufferedChunks);
      for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
        if (unit.kind === "frame") frames.push(unit.frame.payload);
      }
    }
    expect(frames.map((frame) => frame.equals(payload))).toEqual([true, true]);
    expect(mostChunks).toBeLessThanOrEqual(2);
  });

  it("[F-COALESCE] parts handed out stay intact while later bytes are staged", () => {
    const first = encodeFrame(0x03, Buffer.from("first"));
    const second = encodeFrame(0x03, Buffer.from("second"));
    const parser = new FrameParser(LIMITS, { expectPreamble: false });
    parser.push(first);
    const unit = parser.next();
    if (unit?.kind !== "frame") throw new Error("expected a frame");
    parser.push(second.subarray(0, 3));
    parser.push(second.subarray(3));
    const next = parser.next();
    if (next?.kind !== "frame") throw new Error("expected a frame");
    expect(unit.frame.payload.toString()).toBe("first");
    expect(next.frame.payload.toString()).toBe("second");
  });

  it("gives an empty payload no parts", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: false });
    const [unit] = parseAll(parser, [encodeFrame(0x03, Buffer.alloc(0))]);
    if (unit?.kind !== "frame") throw new Error("expected a frame");
    expect(unit.frame.parts).toEqual([]);
    expect(unit.frame.payload.length).toBe(0);
  });

  it("parts always add up to the payload under random splits", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 1000 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (payloads, cuts) => {
          const bytes = Buffer.concat(payloads.map((payload) => encodeFrame(0x03, payload)));
          const parser = new FrameParser(LIMITS, { expectPreamble: false });
          const frames = parseAll(parser, splitAt(bytes, cuts)).flatMap((unit) =>
            unit.kind === "frame" ? [unit.frame] : [],
          );
          expect(frames.map((frame) => [...Buffer.concat(frame.parts)])).toEqual(
            payloads.map((payload) => [...payload]),
          );
          for (const frame of frames) {
            expect(frame.parts.reduce((sum, part) => sum + part.length, 0)).toBe(frame.length);
            expect(frame.parts.every((part) => part.length > 0)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("returns frames of random sizes intact under random splits", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 1000 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (payloads, cuts) => {
          const bytes = Buffer.concat(payloads.map((payload) => encodeFrame(0x03, payload)));
          const parser = new FrameParser(LIMITS, { expectPreamble: false });
          const units = parseAll(parser, splitAt(bytes, cuts));
          expect(
            units.map((unit) => (unit.kind === "frame" ? [...unit.frame.payload] : [])),
          ).toEqual(payloads.map((payload) => [...payload]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses an oversize length from the header alone, before any payload [F-LIMIT]", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: false });
    parser.push(Buffer.from("0100000011", "hex"));
    expect(protocolErrorCode(() => parser.next())).toBe("FRAME_TOO_LARGE");
    // A 4 GiB declaration is refused the same way, without allocating.
    const huge = new FrameParser(LIMITS, { expectPreamble: false });
    huge.push(Buffer.from("03ffffffff", "hex"));
    expect(protocolErrorCode(() => huge.next())).toBe("FRAME_TOO_LARGE");
  });

  it("accepts a frame of exactly the limit [F-LIMIT]", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: false });
    const units = parseAll(parser, [encodeFrame(0x01, Buffer.alloc(16))]);
    expect(units).toHaveLength(1);
  });

  it("refuses an unknown frame type [F-TYPE]", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: false });
    parser.push(Buffer.from("0200000000", "hex"));
    expect(protocolErrorCode(() => parser.next())).toBe("UNKNOWN_FRAME_TYPE");
  });

  it("refuses a bad preamble [P-PREAMBLE] and stays failed", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: true });
    parser.push(Buffer.from("GET / HTTP/1.1\r\n"));
    expect(protocolErrorCode(() => parser.next())).toBe("BAD_PREAMBLE");
    parser.push(encodeFrame(0x01, Buffer.from("x")));
    expect(protocolErrorCode(() => parser.next())).toBe("BAD_PREAMBLE");
  });

  it("reports the version of a well-formed preamble of another version", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: true });
    parser.push(encodePreamble(2));
    expect(parser.next()).toEqual({ kind: "preamble", version: 2 });
  });

  it("waits for a partial header or payload without error", () => {
    const parser = new FrameParser(LIMITS, { expectPreamble: false });
    parser.push(Buffer.from("0300", "hex"));
    expect(parser.next()).toBeUndefined();
    parser.push(Buffer.from("00000301", "hex"));
    expect(parser.next()).toBeUndefined();
    expect(parser.atBoundary).toBe(false);
    parser.push(Buffer.from("0203", "hex"));
    const unit = parser.next();
    expect(unit?.kind === "frame" ? unit.frame.payload.toString("hex") : undefined).toBe("010203");
  });

  it("only ever throws ProtocolError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, preamble) => {
        const parser = new FrameParser(LIMITS, { expectPreamble: preamble });
        try {
          parseAll(parser, [Buffer.from(bytes)]);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
