/**
 * A TCP relay on 127.0.0.1 that passes what a client sends on slowly (one read at a time,
 * a pause after each), so that a transfer through it is reliably still running when a
 * test acts. The server's side passes on at once. Either side closing closes both.
 */
import net, { type AddressInfo } from "node:net";
import { afterEach } from "vitest";
import { WAIT_MS, withTimeout } from "./harness.js";

/** Pause after each read from the client: with 64 KiB reads, about 1.3 MB/s. */
const PAUSE_PER_READ_MS = 50;

const relays = new Set<net.Server>();
const sockets = new Set<net.Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(
    [...relays].map(
      (relay) =>
        new Promise<void>((resolve) =>
          relay.close(() => {
            resolve();
          }),
        ),
    ),
  );
  relays.clear();
});

/** Starts a throttled relay to `targetPort` and returns the port to connect to. */
export async function startThrottledRelay(targetPort: number): Promise<number> {
  const relay = net.createServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.once("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on("data", (bytes: Buffer) => client.write(bytes));
    client.on("data", (bytes: Buffer) => {
      client.pause();
      upstream.write(bytes);
      setTimeout(() => client.resume(), PAUSE_PER_READ_MS);
    });
  });
  relays.add(relay);
  await withTimeout(
    new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve)),
    WAIT_MS,
    "the relay to listen",
  );
  return (relay.address() as AddressInfo).port;
}
