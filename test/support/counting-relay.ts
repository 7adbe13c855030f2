/**
 * A TCP relay on 127.0.0.1 that counts the bytes each connection's client sends on to
 * the server, and can cut the connection once a given count has passed (as a lost
 * network: the client's side destroyed, the server's ended, so that the server reads all
 * that reached it and no more), or tell a test when it has.
 */
import net, { type AddressInfo } from "node:net";
import { withTimeout } from "./with-timeout.js";

/** Bound on the relay's own start and stop. */
const RELAY_WAIT_MS = 5_000;

export interface CountingRelay {
  readonly port: number;
  /** Client → server bytes passed on, all connections together. */
  readonly toServerBytes: number;
  /** Resolves once at least `bytes` client → server bytes were passed on. */
  passed(bytes: number): Promise<void>;
  /**
   * Resolves once no connection is open through the relay: whatever a client sent before
   * it died has been passed on (or dropped with the connection), and counted.
   */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface CountingRelayOptions {
  /** Destroys every connection once this many client → server bytes were passed on. */
  readonly cutAfterBytes?: number;
}

export async function startCountingRelay(
  targetPort: number,
  options: CountingRelayOptions = {},
): Promise<CountingRelay> {
  let toServerBytes = 0;
  const sockets = new Set<net.Socket>();
  const waiters = new Set<{ bytes: number; resolve: () => void }>();
  const idleWaiters = new Set<() => void>();
  const closedOne = (): void => {
    if (sockets.size > 0) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters.clear();
  };
  const counted = (): void => {
    for (const waiter of [...waiters]) {
      if (toServerBytes >= waiter.bytes) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort, allowHalfOpen: true });
    /** Cut: the server's side is left to close once the server has read to the end. */
    let cutOff = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.once("close", () => {
        sockets.delete(socket);
        client.destroy();
        if (!cutOff || socket === upstream) upstream.destroy();
        closedOne();
      });
    }
    const cut = options.cutAfterBytes;
    client.on("data", (bytes: Buffer) => {
      const room = cut === undefined ? bytes.length : Math.max(0, cut - toServerBytes);
      const passed = bytes.length <= room ? bytes : bytes.subarray(0, room);
      toServerBytes += passed.length;
      if (!upstream.write(passed)) client.pause();
      if (passed.length < bytes.length) {
        // The network is lost here: what was passed on is all the server gets, and all of
        // it does get. The server's side is ended, not destroyed: a socket closed with
        // unread bytes resets the connection, and the server would lose what it had not
        // read yet. It closes its side once it has read to the end.
        cutOff = true;
        client.destroy();
        upstream.end();
      }
      counted();
    });
    upstream.on("drain", () => client.resume());
    client.on("end", () => upstream.end());
    upstream.on("data", (bytes: Buffer) => {
      // Cut off: what the server says now reaches no one.
      if (client.destroyed) return;
      if (!client.write(bytes)) upstream.pause();
    });
    client.on("drain", () => upstream.resume());
    upstream.on("end", () => client.end());
  });
  await withTimeout(
    new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)),
    RELAY_WAIT_MS,
    "the relay to listen",
  );
  return {
    port: (server.address() as AddressInfo).port,
    get toServerBytes() {
      return toServerBytes;
    },
    passed: (bytes) =>
      new Promise<void>((resolve) => {
        waiters.add({ bytes, resolve });
        counted();
      }),
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.add(resolve);
        closedOne();
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await withTimeout(
        new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        ),
        RELAY_WAIT_MS,
        "the relay to close",
      );
    },
  };
}
