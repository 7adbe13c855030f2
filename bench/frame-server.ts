/**
 * Baseline server for the dictionary cases: reads length-prefixed frames (u32 big-endian
 * length, JSON bytes) on each connection, parses each frame's JSON, and acknowledges each
 * frame with its sequence number (u32 big-endian); the acknowledgements for the frames of
 * one read go out in one write. Listens on 127.0.0.1 (port 0) and prints {"port":N}.
 */
import net, { type AddressInfo } from "node:net";
import { ACK_BYTES, FrameParser } from "./frames.js";

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  const parser = new FrameParser();
  let sequence = 0;
  socket.on("data", (chunk: Buffer) => {
    let payloads: Buffer[];
    try {
      payloads = parser.push(chunk);
      for (const payload of payloads) JSON.parse(payload.toString("utf8"));
    } catch (error) {
      console.error(`bad frame: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
      return;
    }
    if (payloads.length === 0) return;
    const acks = Buffer.allocUnsafe(payloads.length * ACK_BYTES);
    for (let index = 0; index < payloads.length; index++) {
      sequence += 1;
      acks.writeUInt32BE(sequence >>> 0, index * ACK_BYTES);
    }
    socket.write(acks);
  });
  socket.on("error", () => {
    socket.destroy();
  });
});
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
