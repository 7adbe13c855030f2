/**
 * A TCP relay on 127.0.0.1 between a client and a server, for tests of what an attacker
 * on the path can do: it cuts each direction into its cleartext opening (preamble and
 * handshake frames) and its records [R-RECORD], and lets a test change, drop, repeat or
 * reorder records, alter the opening, or forward every byte on its own.
 */
import { once } from "node:events";
import net, { type AddressInfo } from "node:net";
import { FRAME_HEADER_BYTES } from "../../src/framing/frame.js";
import { PREAMBLE_BYTES } from "../../src/framing/preamble.js";
import { RECORD_HEADER_BYTES } from "../../src/crypto/constants.js";
import { HOST, WAIT_MS, within, type Resources } from "./helpers.js";

/** What a hook may do with the direction it was called for. */
export interface Direction {
  /** Sends bytes on, as they are. */
  forward(bytes: Uint8Array): void;
  /** Ends this direction (FIN), as a peer that stopped sending would. */
  end(): void;
}

export interface RelayOptions {
  /**
   * Called with each whole record from the client (header and ciphertext) and its index
   * from 0; the default forwards it.
   */
  readonly toServer?: (record: Buffer, index: number, direction: Direction) => void;
  /** The same for the server's records. */
  readonly toClient?: (record: Buffer, index: number, direction: Direction) => void;
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

/** Frames before the records: the client's HANDSHAKE; the server's HELLO and HANDSHAKE. */
const CLIENT_OPENING_FRAMES = 1;
const SERVER_OPENING_FRAMES = 2;

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

/**
 * Cuts one direction into its opening (a preamble, then `openingFrames` frames), each
 * unit handed to `opening` and forwarded as soon as it is whole, and then records, each
 * handed to `onRecord` (or forwarded).
 */
function splitter(
  openingFrames: number,
  direction: Direction,
  opening: (bytes: Buffer) => Buffer,
  onRecord: RelayOptions["toServer"],
): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let unitsLeft = openingFrames + 1;
  let index = 0;
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (unitsLeft > 0) {
        const preamble = unitsLeft === openingFrames + 1;
        if (!preamble && pending.length < FRAME_HEADER_BYTES) return;
        const length = preamble ? PREAMBLE_BYTES : FRAME_HEADER_BYTES + pending.readUInt32BE(1);
        if (pending.length < length) return;
        direction.forward(opening(pending.subarray(0, length)));
        pending = pending.subarray(length);
        unitsLeft--;
        continue;
      }
      if (pending.length < RECORD_HEADER_BYTES) return;
      const length = RECORD_HEADER_BYTES + pending.readUInt16BE(0);
      if (pending.length < length) return;
      const record = Buffer.from(pending.subarray(0, length));
      pending = pending.subarray(length);
      if (onRecord === undefined) direction.forward(record);
      else onRecord(record, index, direction);
      index++;
    }
  };
}
