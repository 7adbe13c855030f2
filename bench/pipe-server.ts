/**
 * Baseline receiver for the file cases: a minimal Node `net` pipe. Listens on 127.0.0.1
 * (port 0), prints {"port":N}, and writes each connection's bytes to a new file in
 * --out-dir; when that file is written, sends one byte back and ends the connection.
 */
import { createWriteStream } from "node:fs";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { "out-dir": { type: "string" } } });
const outDir = values["out-dir"];
if (outDir === undefined) throw new Error("usage: pipe-server --out-dir DIR");

let connections = 0;
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  connections += 1;
  const out = createWriteStream(path.join(outDir, `out-${connections}`));
  socket.on("error", (error) => {
    console.error(`connection: ${error.message}`);
    out.destroy();
  });
  out.on("error", (error) => {
    console.error(`write: ${error.message}`);
    socket.destroy();
  });
  out.on("finish", () => {
    socket.end(Buffer.of(1));
  });
  socket.pipe(out);
});
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
