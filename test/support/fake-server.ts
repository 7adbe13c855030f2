/**
 * A scripted gb-transfer server on node:net for client tests: it speaks just enough of
 * version 2 for a test to decide, per connection, when to answer, refuse, reset or never
 * close. Given a key, it runs the responder's side of the handshake when a client sends
 * one, and then seals what it sends into records and opens what it receives; it never
 * checks the items' data, so a test can answer each with whatever receipt it likes.
 * Every server and socket it makes is closed by {@link closeFakeServers}.
 */
import { decodeHave, encodeHeld } from "../../src/protocol/tree-messages.js";
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { MAX_RECORD_PLAINTEXT_BYTES } from "../../src/crypto/constants.js";
import { RecordOpener } from "../../src/crypto/record-opener.js";
import { RecordSealer } from "../../src/crypto/record-sealer.js";
import {
  respondToSession,
  sessionPrologue,
  type SessionKeys,
} from "../../src/crypto/session-handshake.js";
import { encodeFrame } from "../../src/framing/frame.js";
import { FrameParser } from "../../src/framing/frame-parser.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import { CLIENT_FRAME_LIMITS, FrameType, PROTOCOL_VERSION } from "../../src/protocol/constants.js";
import {
  decodeItemHeader,
  encodeError,
  encodeHello,
  receiptText,
  type Hello,
  type BatchMeta,
  type ItemMeta,
  type ReceiptBody,
} from "../../src/protocol/messages.js";

/** Bound for every wait in these tests. */
export const WAIT_MS = 10_000;

const servers = new Set<Server>();
const sockets = new Set<Socket>();

/** One item as the fake server saw it. */
export interface SeenItem {
  readonly id: number;
  readonly meta: ItemMeta | BatchMeta;
  /** Data frames (CHUNK and LAST_CHUNK), in order. */
  readonly frames: { readonly type: number; readonly payload: Buffer }[];
  /** True once its LAST_CHUNK arrived. */
  ended: boolean;
}

/** One client connection, as a test script sees it. */
export interface Peer {
  readonly socket: Socket;
  readonly items: SeenItem[];
  /** The session's keys once a client's handshake succeeded (the server holds a key). */
  readonly keys: SessionKeys | undefined;
  /**
   * Sends the preamble (version 2 unless given) and a HELLO (all-zero scrypt salt,
   * accepting noise and plain, unless given).
   */
  greet(hello?: Partial<Hello>, version?: number): void;
  /** Sends a RECEIPT that matches what was received for `item`. */
  receipt(item: SeenItem, savedAs?: string | null): void;
  /** Sends a RECEIPT for `item` with `body`, whatever it says. */
  receiptBody(item: SeenItem, body: ReceiptBody): void;
  /** Sends an ERROR, for `id` or (undefined) for the connection. */
  error(code: string, message: string, id: number | undefined): void;
  /** Sends frame bytes: sealed into records once the session is encrypted. */
  send(bytes: Uint8Array): void;
  /** Called when an ITEM header arrived. */
  onItemStart: ((item: SeenItem) => void) | undefined;
  /** Called when an item's LAST_CHUNK arrived. */
  onItemEnd: ((item: SeenItem) => void) | undefined;
  /**
   * Called when a HAVE arrived, with how many it is (1 for the first); unless it returns
   * true (it answered, or dropped the connection), the HAVE is answered: nothing held.
   */
  onHave: ((count: number) => boolean) | undefined;
  /** Called when the client half-closed its side; the default ends ours. */
  onClientEnd: () => void;
}

export interface FakeServerOptions {
  /** Keep our side open after the client's FIN (a server that never closes). */
  readonly allowHalfOpen?: boolean;
  /** The master key: with it the fake answers a client's handshake. */
  readonly masterKey?: Buffer;
}

/** Starts a fake server on 127.0.0.1, port 0; `script` runs for every connection. */
export async function fakeServer(
  script: (peer: Peer) => void,
  options: FakeServerOptions = {},
): Promise<number> {
  const server = createServer({ allowHalfOpen: options.allowHalfOpen ?? false }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    const parser = new FrameParser(CLIENT_FRAME_LIMITS, { expectPreamble: true });
    let current: SeenItem | undefined;
    let haves = 0;
    let helloFrame: Buffer = Buffer.alloc(0);
    let sealer: RecordSealer | undefined;
    let opener: RecordOpener | undefined;
    const send = (bytes: Uint8Array): void => {
      if (sealer === undefined) {
        socket.write(bytes);
        return;
      }
      for (let at = 0; at < bytes.length; at += MAX_RECORD_PLAINTEXT_BYTES) {
        const piece = bytes.subarray(at, Math.min(at + MAX_RECORD_PLAINTEXT_BYTES, bytes.length));
        for (const buffer of sealer.seal([piece], piece.length)) socket.write(buffer);
      }
    };
    const peer: Peer = {
      socket,
      items: [],
      keys: undefined,
      greet: (hello = {}, version = PROTOCOL_VERSION) => {
        helloFrame = encodeFrame(
          FrameType.HELLO,
          encodeHello({
            server: "fake",
            scryptSalt: Buffer.alloc(16),
            accepts: ["noise", "plain"],
            ...hello,
          }),
        );
        socket.write(Buffer.concat([encodePreamble(version), helloFrame]));
      },
      receipt: (item, savedAs = item.meta.name) => {
        const data = Buffer.concat(item.frames.map((frame) => frame.payload));
        peer.receiptBody(item, {
          kind: item.meta.kind === "files" ? "file" : item.meta.kind,
          name: item.meta.name,
          bytes: data.length,
          sha256: createHash("sha256").update(data).digest("hex"),
          savedAs,
          // [M-RECEIPT-STORED] a stored dictionary's receipt has its stored file's hash;
          // this server stores nothing, so any hash does.
          ...(item.meta.kind === "dict" && savedAs !== null
            ? { storedSha256: createHash("sha256").update("stored").digest("hex") }
            : {}),
        });
      },
      receiptBody: (item, body) => {
        send(
          encodeFrame(FrameType.RECEIPT, Buffer.from(receiptText({ id: item.id, receipt: body }))),
        );
      },
      error: (code, message, id) => {
        send(encodeFrame(FrameType.ERROR, encodeError({ code, message, id })));
      },
      send,
      onItemStart: undefined,
      onItemEnd: undefined,
      onHave: undefined,
      onClientEnd: () => {
        socket.end();
      },
    };
    const handshake = (message1: Buffer): void => {
      if (options.masterKey === undefined) throw new Error("the fake server holds no key");
      const preamble = encodePreamble(PROTOCOL_VERSION);
      const { message2, keys } = respondToSession(message1, {
        masterKey: options.masterKey,
        prologue: sessionPrologue(preamble, preamble, helloFrame),
      });
      socket.write(encodeFrame(FrameType.HANDSHAKE, message2));
      (peer as { keys: SessionKeys | undefined }).keys = keys;
      sealer = new RecordSealer(keys.send);
      opener = new RecordOpener(keys.receive);
      const rest = parser.takeBuffered();
      for (const bytes of rest) for (const plaintext of opener.push(bytes)) parser.push(plaintext);
    };
    socket.on("data", (chunk: Buffer) => {
      if (opener === undefined) parser.push(chunk);
      else for (const plaintext of opener.push(chunk)) parser.push(plaintext);
      for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
        if (unit.kind === "preamble") continue;
        const { type, payload } = unit.frame;
        if (type === FrameType.HANDSHAKE) {
          handshake(payload);
        } else if (type === FrameType.HAVE) {
          haves++;
          const answered = peer.onHave?.(haves) === true;
          if (socket.destroyed) return;
          if (!answered) {
            // [RES-HAVE] a server that keeps nothing: every entry is to be sent.
            const have = decodeHave(payload);
            const held = have.keys.map(() => null);
            send(encodeFrame(FrameType.HELD, encodeHeld({ tree: have.tree, held })));
          }
        } else if (type === FrameType.ITEM) {
          const header = decodeItemHeader(payload);
          current = { id: header.id, meta: header.meta, frames: [], ended: false };
          peer.items.push(current);
          peer.onItemStart?.(current);
        } else if (current !== undefined) {
          current.frames.push({ type, payload: Buffer.from(payload) });
          if (type === FrameType.LAST_CHUNK) {
            const item = current;
            item.ended = true;
            current = undefined;
            peer.onItemEnd?.(item);
          }
        }
        if (socket.destroyed) return;
      }
    });
    socket.on("end", () => {
      peer.onClientEnd();
    });
    script(peer);
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A server that answers every complete item with a matching receipt. */
export function storingScript(peer: Peer): void {
  peer.greet();
  peer.onItemEnd = (item) => {
    peer.receipt(item);
  };
}

/** Destroys every socket and closes every fake server. */
export async function closeFakeServers(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  const closing = [...servers].map(
    (server) =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  );
  servers.clear();
  await Promise.all(closing);
}
