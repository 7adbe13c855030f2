/**
 * A scripted gb-transfer server that holds a key: it takes plaintext and encrypted items
 * alike (without opening their chunks), so a test can answer each with whatever receipt
 * it likes, sealed or not, authentic or not. Every server and socket it makes is closed
 * by {@link closeKeyedServers}.
 */
import { createServer, type Server, type Socket } from "node:net";
import { deriveItemKeys, type ItemKeys } from "../../src/crypto/item-keys.js";
import { keyId } from "../../src/crypto/key-id.js";
import { sealOnce } from "../../src/crypto/seal-once.js";
import { encodeFrame } from "../../src/framing/frame.js";
import { FrameParser } from "../../src/framing/frame-parser.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import { CLIENT_FRAME_LIMITS, FrameType } from "../../src/protocol/constants.js";
import {
  decodeItemHeader,
  encodeError,
  encodeHello,
  receiptText,
  encodeReceiptBody,
  type ReceiptBody,
} from "../../src/protocol/messages.js";

const servers = new Set<Server>();
const sockets = new Set<Socket>();

/** One item as the server saw it. */
export interface KeyedItem {
  readonly id: number;
  /** The item's keys when it was encrypted. */
  readonly keys: ItemKeys | undefined;
  /** Data frames (CHUNK and LAST_CHUNK), in order, payloads as sent (sealed or not). */
  readonly frames: { readonly type: number; readonly payload: Buffer }[];
  ended: boolean;
}

export interface KeyedPeer {
  readonly socket: Socket;
  readonly items: KeyedItem[];
  /** Sends a RECEIPT for `item` with `body`, sealed under its receipt key or in the clear. */
  receipt(item: KeyedItem, body: ReceiptBody, sealed: boolean): void;
  /** Sends a RECEIPT whose `sealedReceipt` is exactly `sealed`. */
  sealedBytes(item: KeyedItem, sealed: Buffer): void;
  /** Sends an ERROR for `id`, or for the connection when undefined. */
  error(code: string, message: string, id: number | undefined): void;
  onItemStart: ((item: KeyedItem) => void) | undefined;
  onItemEnd: ((item: KeyedItem) => void) | undefined;
}

/** Starts a server holding `masterKey` on 127.0.0.1, port 0; `script` runs per connection. */
export async function keyedServer(
  masterKey: Buffer,
  script: (peer: KeyedPeer) => void,
): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    const parser = new FrameParser(CLIENT_FRAME_LIMITS, { expectPreamble: true });
    let current: KeyedItem | undefined;
    const sealedBytes = (item: KeyedItem, sealed: Buffer): void => {
      socket.write(
        encodeFrame(
          FrameType.RECEIPT,
          Buffer.from(receiptText({ id: item.id, encrypted: true, sealedReceipt: sealed })),
        ),
      );
    };
    const peer: KeyedPeer = {
      socket,
      items: [],
      receipt: (item, body, sealed) => {
        if (!sealed) {
          socket.write(
            encodeFrame(
              FrameType.RECEIPT,
              Buffer.from(receiptText({ id: item.id, encrypted: false, receipt: body })),
            ),
          );
          return;
        }
        if (item.keys === undefined) throw new Error("a plaintext item has no receipt key");
        sealedBytes(item, sealOnce(item.keys.receiptKey, encodeReceiptBody(body)));
      },
      sealedBytes,
      error: (code, message, id) => {
        socket.write(encodeFrame(FrameType.ERROR, encodeError({ code, message, id })));
      },
      onItemStart: undefined,
      onItemEnd: undefined,
    };
    socket.write(encodePreamble(1));
    socket.write(
      encodeFrame(
        FrameType.HELLO,
        encodeHello({ server: "keyed", keyId: keyId(masterKey), scryptSalt: Buffer.alloc(16) }),
      ),
    );
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
        if (unit.kind === "preamble") continue;
        const { type, payload } = unit.frame;
        if (type === FrameType.ITEM) {
          const header = decodeItemHeader(payload);
          const keys = header.encrypted ? deriveItemKeys(masterKey, header.salt) : undefined;
          current = { id: header.id, keys, frames: [], ended: false };
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
      socket.end();
    });
    script(peer);
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Destroys every socket and closes every keyed server. */
export async function closeKeyedServers(): Promise<void> {
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
