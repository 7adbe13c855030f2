/**
 * Baseline subject of the dictionary cases: the same dictionaries as JSON in length-
 * prefixed frames over `net`. pipelined: one connection, all frames written (honouring
 * back-pressure), then all acknowledgements awaited. oneshot: --concurrency loops, each
 * connecting, writing one frame, awaiting its acknowledgement and closing.
 * Prints {"items","elapsedMs"}.
 */
import net from "node:net";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { parseDictClientArgs, runLoops, type DictClientReport } from "./dict-client-args.js";
import { ACK_BYTES, encodeFrame } from "./frames.js";
import { sampleRecord } from "./sample-dict.js";

const args = parseDictClientArgs(process.argv.slice(2));
const host = "127.0.0.1";

function frameFor(index: number): Buffer {
  return encodeFrame(Buffer.from(JSON.stringify(sampleRecord(index)), "utf8"));
}

/** Connects, runs `send`, and resolves once `frames` acknowledgements arrived and the connection closed. */
async function exchange(
  frames: number,
  send: (socket: net.Socket) => Promise<void>,
): Promise<void> {
  const socket = net.connect({ host, port: args.port, noDelay: true });
  const acknowledged = new Promise<void>((resolve, reject) => {
    let ackBytes = 0;
    socket.on("data", (chunk: Buffer) => {
      ackBytes += chunk.length;
      if (ackBytes >= frames * ACK_BYTES) resolve();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      reject(new Error(`connection closed after ${Math.floor(ackBytes / ACK_BYTES)} acks`));
    });
  });
  // Handled where awaited; this keeps an early failure from counting as unhandled.
  acknowledged.catch(() => undefined);
  try {
    await once(socket, "connect");
    await send(socket);
    await acknowledged;
    socket.end();
    if (!socket.closed) await once(socket, "close");
  } finally {
    socket.destroy();
  }
}

const started = performance.now();
if (args.mode === "pipelined") {
  await exchange(args.count, async (socket) => {
    for (let index = 0; index < args.count; index++) {
      if (!socket.write(frameFor(index))) await once(socket, "drain");
    }
  });
} else {
  await runLoops(args.count, args.concurrency, (index) =>
    exchange(1, async (socket) => {
      socket.write(frameFor(index));
    }),
  );
}
const report: DictClientReport = { items: args.count, elapsedMs: performance.now() - started };
console.log(JSON.stringify(report));
