/**
 * Baseline subject of the dictionary cases: the same dictionaries as JSON in length-
 * prefixed frames over `net`. pipelined: one connection, all frames written (honouring
 * back-pressure), then all acknowledgements awaited. oneshot: --concurrency loops, each
 * connecting, writing one frame, awaiting its acknowledgement and closing. With --warmup N,
 * an untimed first pass of N items comes before. Prints {"items","elapsedMs","warmup"}.
 */
import net from "node:net";
import { once } from "node:events";
import {
  parseDictClientArgs,
  runLoops,
  runPasses,
  type DictClientReport,
} from "./dict-client-args.js";
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

const report: DictClientReport = await runPasses(args, async (count) => {
  if (args.mode === "pipelined") {
    await exchange(count, async (socket) => {
      for (let index = 0; index < count; index++) {
        if (!socket.write(frameFor(index))) await once(socket, "drain");
      }
    });
    return;
  }
  await runLoops(count, args.concurrency, (index) =>
    exchange(1, async (socket) => {
      socket.write(frameFor(index));
    }),
  );
});
console.log(JSON.stringify(report));
