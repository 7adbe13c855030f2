/**
 * A TCP relay on 127.0.0.1 that counts the bytes each connection's client sends on to
 * the server, and can cut the connection (both sides destroyed, as a lost network)
 * once a given count has passed, or tell a test when it has.
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
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.once("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
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
        // The network is lost here: what was passed on is all the server gets.
        upstream.end(() => {
          upstream.destroy();
          client.destroy();
        });
      }
      counted();
    });
    upstream.on("drain", () => client.resume());
    client.on("end", () => upstream.end());
    upstream.on("data", (bytes: Buffer) => {
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
