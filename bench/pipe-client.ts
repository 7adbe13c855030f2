/**
 * Baseline sender for the file cases: pipes --file into a connection to 127.0.0.1:--port
 * and exits (code 0) when the receiver's one-byte acknowledgement arrives.
 */
import { createReadStream } from "node:fs";
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string" }, file: { type: "string" } },
});
const port = Number(values.port);
const file = values.file;
if (!Number.isInteger(port) || file === undefined) {
  throw new Error("usage: pipe-client --port N --file PATH");
}

let acknowledged = false;
process.exitCode = 1;
const socket = net.connect({ host: "127.0.0.1", port }, () => {
  const source = createReadStream(file);
  source.on("error", (error) => {
    console.error(`read: ${error.message}`);
    socket.destroy();
  });
  source.pipe(socket);
});
socket.once("data", () => {
  acknowledged = true;
  process.exitCode = 0;
  socket.destroy();
});
socket.on("error", (error) => {
  console.error(`connection: ${error.message}`);
});
socket.on("close", () => {
  if (!acknowledged) console.error("connection closed without an acknowledgement");
});
