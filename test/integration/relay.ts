/**
 * A TCP relay on 127.0.0.1 between a client and a server, for tests of what an attacker
 * on the path can do: it cuts each direction into its cleartext opening (preamble and
 * handshake frames) and its records [R-RECORD], and lets a test change, drop, repeat or
 * reorder records, alter the opening, or forward every byte on its own.
 */
import { once } from "node:events";
import net, { type AddressInfo } from "node:net";
import {
  CLIENT_OPENING_FRAMES,
  SERVER_OPENING_FRAMES,
  splitter,
  type Direction,
  type RecordHook,
} from "../support/unit-splitter.js";
import { HOST, WAIT_MS, within, type Resources } from "./helpers.js";

export type { Direction } from "../support/unit-splitter.js";

export interface RelayOptions {
  /**
   * Called with each whole record from the client (header and ciphertext) and its index
   * from 0; the default forwards it.
   */
  readonly toServer?: RecordHook;
  /** The same for the server's records. */
  readonly toClient?: RecordHook;
  /**
   * Changes the server's cleartext opening on its way, one unit at a time: its preamble,
   * then each frame (HELLO, HANDSHAKE), whole.
   */
  readonly openingToClient?: (opening: Buffer) => Buffer;
  /** Writes every byte, both ways, on its own. */
  readonly byteByByte?: boolean;
}

/** A running relay: connect clients to {@link port}. */
export interface Relay {
  readonly port: number;
  /** Every byte a client sent, per connection, in order: a recording to replay. */
  readonly recorded: Buffer[][];
}

/** Starts a relay to `targetPort`; closed on release. */
export async function startRelay(
  resources: Resources,
  targetPort: number,
  options: RelayOptions = {},
): Promise<Relay> {
  const recorded: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: HOST, port: targetPort, allowHalfOpen: true });
    const recording: Buffer[] = [];
    recorded.push(recording);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.once("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const writer = (to: net.Socket): Direction => ({
      forward: (bytes) => {
        if (to.destroyed || to.writableEnded) return;
        if (options.byteByByte !== true) to.write(bytes);
        else for (const byte of bytes) to.write(Uint8Array.of(byte));
      },
      end: () => {
        if (!to.destroyed) to.end();
      },
    });
    const toServer = writer(upstream);
    const toClient = writer(client);
    const fromClient = splitter(
      CLIENT_OPENING_FRAMES,
      toServer,
      (opening) => opening,
      options.toServer,
    );
    const fromServer = splitter(
      SERVER_OPENING_FRAMES,
      toClient,
      options.openingToClient ?? ((opening) => opening),
      options.toClient,
    );
    client.on("data", (chunk: Buffer) => {
      recording.push(Buffer.from(chunk));
      fromClient(chunk);
    });
    upstream.on("data", fromServer);
    client.on("end", () => {
      toServer.end();
    });
    upstream.on("end", () => {
      toClient.end();
    });
  });
  server.listen(0, HOST);
  await within(once(server, "listening"), WAIT_MS, "the relay to listen");
  resources.defer(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });
  return { port: (server.address() as AddressInfo).port, recorded };
}
