/**
 * The complete version-2 sessions of PROTOCOL.md ("Test vectors"), from
 * test/vectors/session-vectors.json (written by an implementation independent of src/):
 * the real handshake, record and frame code, given the vectors' fixed keys, must produce
 * and read every byte, both ways.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { keyPairFromPrivateKey } from "../../src/crypto/noise/dh-25519.js";
import { RecordOpener } from "../../src/crypto/record-opener.js";
import { RecordSealer } from "../../src/crypto/record-sealer.js";
import {
  respondToSession,
  SessionInitiator,
  sessionPrologue,
  type SessionKeys,
} from "../../src/crypto/session-handshake.js";
import { FrameParser } from "../../src/framing/frame-parser.js";
import { encodeFrame, type Frame } from "../../src/framing/frame.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import {
  CLIENT_FRAME_LIMITS,
  FrameType,
  PROTOCOL_VERSION,
  SERVER_FRAME_LIMITS,
} from "../../src/protocol/constants.js";
import {
  decodeError,
  decodeHello,
  decodeItemHeader,
  decodeReceipt,
  encodeError,
  encodeHello,
  itemHeaderText,
  receiptText,
} from "../../src/protocol/messages.js";
import { readProtocolDoc } from "../support/protocol-doc.js";

interface Step {
  what: string;
  hex: string;
  json?: unknown;
  /** The frames a record carries: a control message's JSON, or a chunk's text. */
  frames?: unknown[];
}
interface Session {
  clientToServer: Step[];
  serverToClient: Step[];
}
interface Vectors {
  masterKey: string;
  clientEphemeralPrivateKey: string;
  serverEphemeralPrivateKey: string;
  scryptSalt: string;
  prologue: string;
  handshakeHash: string;
  fingerprint: string;
  clientToServerKey: string;
  serverToClientKey: string;
  encrypted: Session;
  plain: Session;
}

// The file is ours and checked in; the tests fail loudly on a wrong shape.
const vectors = JSON.parse(
  readFileSync(new URL("../vectors/session-vectors.json", import.meta.url), "utf8"),
) as Vectors;
const protocolDoc = readProtocolDoc();
const hex = (text: string): Buffer => Buffer.from(text, "hex");
const masterKey = hex(vectors.masterKey);

function step(steps: readonly Step[], index: number): Step {
  const found = steps[index];
  if (found === undefined) throw new Error(`no step ${index}`);
  return found;
}

/** Every frame in `bytes`, which start with a preamble. */
function framesOf(bytes: Buffer, limits: ReadonlyMap<number, number>): Frame[] {
  const parser = new FrameParser(limits, { expectPreamble: true });
  parser.push(bytes);
  const frames: Frame[] = [];
  for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
    if (unit.kind === "frame") frames.push(unit.frame);
    else expect(unit.version).toBe(PROTOCOL_VERSION);
  }
  expect(parser.bufferedBytes).toBe(0);
  return frames;
}

/** The frames carried by one record's plaintext. */
function recordFrames(plaintext: Buffer, limits: ReadonlyMap<number, number>): Frame[] {
  const parser = new FrameParser(limits, { expectPreamble: false });
  parser.push(plaintext);
  const frames: Frame[] = [];
  for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
    if (unit.kind === "frame") frames.push(unit.frame);
  }
  expect(parser.atBoundary).toBe(true);
  return frames;
}

/** A frame as the vectors describe it: its control message decoded, or a chunk as text. */
function described(frame: Frame): unknown {
  switch (frame.type) {
    case FrameType.ITEM:
      return decodeItemHeader(frame.payload);
    case FrameType.RECEIPT:
      return decodeReceipt(frame.payload);
    case FrameType.ERROR:
      return decodeError(frame.payload);
    default:
      return frame.payload.toString("utf8");
  }
}

/** The frames of a record, re-encoded by our encoders from what they decoded to. */
function reencoded(frames: readonly Frame[]): Buffer {
  return Buffer.concat(
    frames.map((frame) => {
      switch (frame.type) {
        case FrameType.ITEM:
          return encodeFrame(
            frame.type,
            Buffer.from(itemHeaderText(decodeItemHeader(frame.payload))),
          );
        case FrameType.RECEIPT:
          return encodeFrame(frame.type, Buffer.from(receiptText(decodeReceipt(frame.payload))));
        default:
          return encodeFrame(frame.type, frame.payload);
      }
    }),
  );
}

/** Both sides' keys, from the real handshake with the vectors' ephemeral keys. */
function handshake(): {
  client: SessionKeys;
  server: SessionKeys;
  message1: Buffer;
  message2: Buffer;
} {
  const prologue = hex(vectors.prologue);
  const initiator = new SessionInitiator({
    masterKey,
    prologue,
    ephemeral: keyPairFromPrivateKey(hex(vectors.clientEphemeralPrivateKey)),
  });
  const { message2, keys: server } = respondToSession(initiator.message1, {
    masterKey,
    prologue,
    ephemeral: keyPairFromPrivateKey(hex(vectors.serverEphemeralPrivateKey)),
  });
  return { client: initiator.finish(message2), server, message1: initiator.message1, message2 };
}

describe("session test vectors (PROTOCOL.md, Test vectors)", () => {
  const encrypted = vectors.encrypted;

  it("are all printed in PROTOCOL.md exactly", () => {
    const sessions = [vectors.encrypted, vectors.plain];
    for (const s of sessions.flatMap((session) => [
      ...session.clientToServer,
      ...session.serverToClient,
    ])) {
      // The document wraps long hex at 64 characters per line.
      const wrapped = s.hex.match(/.{1,64}/g)?.join("\n") ?? "";
      expect(protocolDoc.includes(wrapped), s.what).toBe(true);
    }
    for (const value of [vectors.handshakeHash, vectors.fingerprint, vectors.prologue]) {
      expect(protocolDoc.includes(value.match(/.{1,64}/g)?.join("\n") ?? "")).toBe(true);
    }
  });

  it("[P-PREAMBLE] [M-HELLO] [H-PROLOGUE] the preambles and HELLO, and the prologue they make", () => {
    const clientPreamble = step(encrypted.clientToServer, 0);
    const serverPreamble = step(encrypted.serverToClient, 0);
    const hello = step(encrypted.serverToClient, 1);
    expect(encodePreamble(PROTOCOL_VERSION).toString("hex")).toBe(clientPreamble.hex);
    expect(serverPreamble.hex).toBe(clientPreamble.hex);
    const [helloFrame] = framesOf(
      Buffer.concat([hex(serverPreamble.hex), hex(hello.hex)]),
      SERVER_FRAME_LIMITS,
    );
    const decoded = decodeHello(helloFrame!.payload);
    expect(decoded.accepts).toEqual(["noise"]);
    expect(decoded.scryptSalt.toString("hex")).toBe(vectors.scryptSalt);
    expect(encodeFrame(FrameType.HELLO, encodeHello(decoded)).toString("hex")).toBe(hello.hex);
    expect(
      sessionPrologue(hex(clientPreamble.hex), hex(serverPreamble.hex), hex(hello.hex)).toString(
        "hex",
      ),
    ).toBe(vectors.prologue);
  });

  it("[H-PATTERN] [H-MESSAGES] [H-KEYS] the handshake: both messages, the keys, h", () => {
    const { client, server, message1, message2 } = handshake();
    expect(encodeFrame(FrameType.HANDSHAKE, message1).toString("hex")).toBe(
      step(encrypted.clientToServer, 1).hex,
    );
    expect(encodeFrame(FrameType.HANDSHAKE, message2).toString("hex")).toBe(
      step(encrypted.serverToClient, 2).hex,
    );
    for (const keys of [client, server]) {
      expect(keys.handshakeHash.toString("hex")).toBe(vectors.handshakeHash);
    }
  });

  it("[H-FINGERPRINT] the session fingerprint is the same on both sides", () => {
    const { client, server } = handshake();
    expect(client.fingerprint).toBe(vectors.fingerprint);
    expect(server.fingerprint).toBe(vectors.fingerprint);
    expect(vectors.fingerprint).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){3}$/);
  });

  it("[R-RECORD] client to server: sealed by the client, opened by the server", () => {
    const { client, server } = handshake();
    const sealer = new RecordSealer(client.send);
    const opener = new RecordOpener(server.receive);
    for (const s of encrypted.clientToServer.slice(2)) {
      const record = hex(s.hex);
      const [plaintext, ...more] = opener.push(record);
      expect(more).toEqual([]);
      const frames = recordFrames(plaintext!, CLIENT_FRAME_LIMITS);
      expect(frames.map(described)).toEqual(s.frames);
      const resealed = sealer.seal([reencoded(frames)], plaintext!.length);
      expect(Buffer.concat(resealed).toString("hex")).toBe(s.hex);
    }
  });

  it("[R-RECORD] server to client: sealed by the server, opened by the client", () => {
    const { client, server } = handshake();
    const sealer = new RecordSealer(server.send);
    const opener = new RecordOpener(client.receive);
    for (const s of encrypted.serverToClient.slice(3)) {
      const [plaintext] = opener.push(hex(s.hex));
      const frames = recordFrames(plaintext!, SERVER_FRAME_LIMITS);
      expect(frames.map(described)).toEqual(s.frames);
      expect(
        Buffer.concat(sealer.seal([reencoded(frames)], plaintext!.length)).toString("hex"),
      ).toBe(s.hex);
    }
  });

  it("a plain session: parse to the documented messages and re-encode to the same bytes", () => {
    const plain = vectors.plain;
    for (const [steps, limits] of [
      [plain.clientToServer, CLIENT_FRAME_LIMITS],
      [plain.serverToClient, SERVER_FRAME_LIMITS],
    ] as const) {
      const frames = framesOf(Buffer.concat(steps.map((s) => hex(s.hex))), limits);
      expect(frames).toHaveLength(steps.length - 1);
      for (const [index, frame] of frames.entries()) {
        const s = step(steps, index + 1);
        if (s.json === undefined) continue;
        if (frame.type === FrameType.HELLO) {
          expect(decodeHello(frame.payload).accepts).toEqual(["noise", "plain"]);
          expect(
            encodeFrame(frame.type, encodeHello(decodeHello(frame.payload))).toString("hex"),
          ).toBe(s.hex);
        } else if (frame.type === FrameType.ERROR) {
          const error = decodeError(frame.payload);
          expect(error).toEqual(s.json);
          expect(encodeFrame(frame.type, encodeError(error)).toString("hex")).toBe(s.hex);
        } else {
          expect(described(frame)).toEqual(s.json);
          expect(reencoded([frame]).toString("hex")).toBe(s.hex);
        }
      }
    }
  });
});

describe("the XML example in PROTOCOL.md [C-XML]", () => {
  it("decodes to the values the document describes", async () => {
    const { decodeDict } = await import("../../src/codecs/dict-format.js");
    const section = protocolDoc.slice(protocolDoc.indexOf("### xml [C-XML]"));
    const xml = /```xml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(xml).toBeDefined();
    const { dictJsonText } = await import("../../src/codecs/dict-json-text.js");
    expect(dictJsonText(decodeDict(Buffer.from(xml!), "xml"))).toBe(
      '{"name":"Ada & Co","age":36,"ratio":1.0,"tiny":-1.5e-7,"id":18446744073709551616,' +
        '"ok":true,"nothing":null,"tags":["a",1],"nested":{"":"the empty key"},' +
        '"bell\\u0007":"\\u0000"}',
    );
  });
});
