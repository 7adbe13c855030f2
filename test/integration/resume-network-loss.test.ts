/**
 * [RES-BUSY] A network lost mid-file: the server still holds the old connection (it has
 * seen no end of it), the client is stopped, and the same file is sent again. The new
 * connection takes the file over: the old one is ended, what it received is kept, and
 * only the missing part is sent.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile, readdir, writeFile } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GbClient } from "../../src/transfer/client.js";
import { prepareFile } from "../../src/transfer/client/prepared-item.js";
import { STATE_DIRECTORY_NAME } from "../../src/transfer/server/resume-state.js";
import { withTimeout } from "../support/with-timeout.js";
import { HOST, WAIT_MS, makeTempDir, startServer, useResources } from "./helpers.js";

const resources = useResources();

const MiB = 1024 * 1024;
const SIZE = 4 * MiB;

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * A relay that goes dead like a lost network once `freezeAfter` client → server bytes
 * went through: nothing more passes either way, and neither side's end reaches the other
 * (the server's connection stays open, as over a cable pulled out).
 */
async function freezingRelay(targetPort: number, freezeAfter: number) {
  let passed = 0;
  let frozen!: () => void;
  const froze = new Promise<void>((resolve) => {
    frozen = resolve;
  });
  let upstreamClosed!: () => void;
  const serverEnded = new Promise<void>((resolve) => {
    upstreamClosed = resolve;
  });
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect({ host: HOST, port: targetPort });
    sockets.add(client).add(upstream);
    client.on("error", () => undefined);
    upstream.on("error", () => undefined);
    upstream.on("close", upstreamClosed);
    client.on("data", (data: Buffer) => {
      if (passed >= freezeAfter) return;
      const room = freezeAfter - passed;
      upstream.write(room >= data.length ? data : data.subarray(0, room));
      passed += Math.min(room, data.length);
      if (passed >= freezeAfter) frozen();
    });
    upstream.on("data", (data: Buffer) => {
      if (passed < freezeAfter) client.write(data);
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, HOST, resolve));
  resources.defer(
    () =>
      new Promise<void>((resolve) => {
        relay.close(() => {
          resolve();
        });
        // A frozen relay holds its sockets open; the test's end closes them.
        for (const socket of sockets) socket.destroy();
      }),
  );
  return { port: (relay.address() as AddressInfo).port, froze, serverEnded };
}

describe("[RES-BUSY] a network lost mid-file", () => {
  it("[RES-BUSY] the same file sent again takes over the connection the server still holds, and only the missing part is sent", async () => {
    const ts = await startServer(resources);
    const data = randomBytes(SIZE);
    const file = path.join(await makeTempDir(resources), "big.bin");
    await writeFile(file, data);

    const relay = await freezingRelay(ts.port, 2 * MiB);
    const lost = await GbClient.connect({
      host: HOST,
      port: relay.port,
      connectTimeoutMs: WAIT_MS,
    });
    const hanging = lost.send(await prepareFile(file));
    hanging.catch(() => undefined);
    await withTimeout(relay.froze, WAIT_MS, "the network to go dead");
    // The user gives up on the stuck client; the server still sees its connection open.
    lost.destroy();
    expect(ts.server.connections).toBe(1);

    const again = await GbClient.connect({ host: HOST, port: ts.port, connectTimeoutMs: WAIT_MS });
    resources.defer(() => {
      again.destroy();
    });
    const sent = await withTimeout(again.send(await prepareFile(file)), WAIT_MS, "the file");
    await again.close();
    // The old connection was ended by the server, not by the network.
    await withTimeout(relay.serverEnded, WAIT_MS, "the old connection to end");
    expect(sent.resumed).toBeGreaterThan(MiB);
    expect(sent.resumed).toBeLessThanOrEqual(2 * MiB);
    expect(sent.receipt).toMatchObject({ bytes: SIZE, sha256: sha256(data), savedAs: "big.bin" });
    expect(sha256(await readFile(path.join(ts.saveDir!, "big.bin")))).toBe(sha256(data));
    expect((await readdir(ts.saveDir!)).sort()).toEqual([STATE_DIRECTORY_NAME, "big.bin"]);
  });
});
