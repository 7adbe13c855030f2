/**
 * Ports on 127.0.0.1 for daemons that cannot be told to pick one (sshd and rsync take a
 * port number and print it back as given, so port 0 would leave the port unknown).
 */
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";

const LOOPBACK = "127.0.0.1";

/** How often a daemon's port is tried while waiting for it to listen. */
const CONNECT_RETRY_MS = 20;

/**
 * A port that was free on 127.0.0.1 a moment ago: the kernel picks it for a listener that
 * is closed at once. Another process may take it before the daemon binds it, so starting
 * a daemon on it is retried (see {@link onFreePort}).
 */
export async function freeLocalPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  if (address === null || typeof address === "string") {
    throw new Error("the kernel gave no port number");
  }
  return address.port;
}

/**
 * Runs `attempt` with a free port until it succeeds, at most `attempts` times (a port
 * taken meanwhile makes the daemon fail to bind); rethrows the last failure.
 */
export async function onFreePort<T>(
  attempts: number,
  attempt: (port: number) => Promise<T>,
): Promise<T> {
  if (!(attempts >= 1)) throw new RangeError(`attempts must be at least 1: ${attempts}`);
  let lastError: unknown = null;
  for (let index = 0; index < attempts; index++) {
    try {
      return await attempt(await freeLocalPort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function connectOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, LOOPBACK);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export interface ListenerWait {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Whether the daemon still runs: once it has exited there is nothing to wait for. */
  readonly alive: () => boolean;
  /** For messages: "rsync daemon". */
  readonly label: string;
}

/**
 * Waits until something accepts connections on 127.0.0.1:`port`, for a daemon whose log
 * line comes before it binds (rsync's). The probe connection is closed at once.
 */
export async function waitForLocalListener(port: number, wait: ListenerWait): Promise<void> {
  const deadline = performance.now() + wait.timeoutMs;
  const maxTries = Math.ceil(wait.timeoutMs / CONNECT_RETRY_MS) + 1;
  for (let tries = 0; tries < maxTries; tries++) {
    wait.signal.throwIfAborted();
    if (!wait.alive()) throw new Error(`${wait.label} exited before it listened`);
    if (await connectOnce(port)) return;
    if (performance.now() >= deadline) break;
    await delay(CONNECT_RETRY_MS, undefined, { signal: wait.signal });
  }
  throw new Error(`${wait.label} did not listen on port ${port} within ${wait.timeoutMs} ms`);
}
