/**
 * A scripted, plaintext-only gb-transfer server on node:net for client tests: it speaks
 * just enough of the protocol for a test to decide, per connection, when to answer,
 * refuse, reset or never close. Every server and socket it makes is closed by
 * {@link closeFakeServers}.
 */
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { encodeFrame } from "../../src/framing/frame.js";
import { FrameParser } from "../../src/framing/frame-parser.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import { CLIENT_FRAME_LIMITS, FrameType } from "../../src/protocol/constants.js";
import {
  decodeItemHeader,
  encodeError,
  encodeHello,
  receiptText,
  type Hello,
  type ItemMeta,
} from "../../src/protocol/messages.js";

/** Bound for every wait in these tests. */
export const WAIT_MS = 10_000;

const servers = new Set<Server>();
const sockets = new Set<Socket>();

/** One item as the fake server saw it. */
export interface SeenItem {
  readonly id: number;
  readonly meta: ItemMeta;
  /** Data frames (CHUNK and LAST_CHUNK), in order. */
  readonly frames: { readonly type: number; readonly payload: Buffer }[];
  /** True once its LAST_CHUNK arrived. */
  ended: boolean;
}

/** One client connection, as a test script sees it. */
export interface Peer {
  readonly socket: Socket;
  readonly items: SeenItem[];
  /** Sends the preamble and a HELLO (all-zero key id and salt unless given). */
  greet(hello?: Partial<Hello>): void;
  /** Sends a RECEIPT that matches what was received for `item`. */
  receipt(item: SeenItem, savedAs?: string | null): void;
  /** Sends an ERROR, for `id` or (undefined) for the connection. */
  error(code: string, message: string, id: number | undefined): void;
  /** Called when an ITEM header arrived. */
  onItemStart: ((item: SeenItem) => void) | undefined;
  /** Called when an item's LAST_CHUNK arrived. */
  onItemEnd: ((item: SeenItem) => void) | undefined;
  /** Called when the client half-closed its side; the default ends ours. */
  onClientEnd: () => void;
}

export interface FakeServerOptions {
  /** Keep our side open after the client's FIN (a server that never closes). */
  readonly allowHalfOpen?: boolean;
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
    const peer: Peer = {
      socket,
      items: [],
      greet: (hello = {}) => {
        socket.write(encodePreamble(1));
        socket.write(
          encodeFrame(
            FrameType.HELLO,
            encodeHello({
              server: "fake",
              keyId: Buffer.alloc(16),
              scryptSalt: Buffer.alloc(16),
              ...hello,
            }),
          ),
        );
      },
      receipt: (item, savedAs = item.meta.name) => {
        const data = Buffer.concat(item.frames.map((frame) => frame.payload));
        const body = {
          kind: item.meta.kind,
          name: item.meta.name,
          bytes: data.length,
          sha256: createHash("sha256").update(data).digest("hex"),
          savedAs,
        };
        socket.write(
          encodeFrame(
            FrameType.RECEIPT,
            Buffer.from(receiptText({ id: item.id, encrypted: false, receipt: body })),
          ),
        );
      },
      error: (code, message, id) => {
        socket.write(encodeFrame(FrameType.ERROR, encodeError({ code, message, id })));
      },
      onItemStart: undefined,
      onItemEnd: undefined,
      onClientEnd: () => {
        socket.end();
      },
    };
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
        if (unit.kind === "preamble") continue;
        const { type, payload } = unit.frame;
        if (type === FrameType.ITEM) {
          const header = decodeItemHeader(payload);
          if (header.encrypted) throw new Error("the fake server is plaintext only");
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
