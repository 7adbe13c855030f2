/**
 * A caller that awaits its items one by one reaches a failed item only after the earlier
 * ones settle. Until then the failure must not count as an unhandled rejection (vitest
 * fails the run on one, and Node would print a warning or exit).
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GbClient } from "../../src/transfer/client.js";
import { closeFakeServers, fakeServer, storingScript } from "../support/fake-server.js";
import { TempDirs } from "../support/temp-dirs.js";

const temp = new TempDirs();

afterEach(async () => {
  await closeFakeServers();
  await temp.removeAll();
});

const turns = async (count: number): Promise<void> => {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
};

describe("an item awaited late", () => {
  it("rejects when awaited, without an unhandled rejection before", async () => {
    const port = await fakeServer(storingScript);
    const client = await GbClient.connect({ host: "127.0.0.1", port });
    const missing = path.join(await temp.make("gb-late-"), "missing.txt");
    const failing = client.sendFile(missing);
    const badDict = client.sendDict({ n: Number.NaN }, { format: "json" });
    // Both fail now; nobody has attached a handler yet.
    await turns(5);
    await expect(failing).rejects.toMatchObject({ code: "INPUT_UNREADABLE" });
    await expect(badDict).rejects.toMatchObject({ code: "DICT_INVALID" });
    await client.close();
  });

  it("rejects dictionaries the server refused or lost, without an unhandled rejection before", async () => {
    // The first dictionary is refused; the connection drops after the second one arrives.
    const port = await fakeServer((peer) => {
      peer.greet();
      peer.onItemEnd = (item) => {
        if (item.id === 1) peer.error("REJECTED", "not this one", item.id);
        else peer.socket.destroy();
      };
    });
    const client = await GbClient.connect({ host: "127.0.0.1", port });
    const refused = client.sendDict({ n: 1 }, { format: "json", name: "refused.json" });
    const lost = client.sendDict({ n: 2 }, { format: "json", name: "lost.json" });
    // close() resolves once both items failed and the connection closed; a rejection
    // nobody handled would have been reported by then.
    await client.close();
    await turns(2);
    await expect(refused).rejects.toMatchObject({ code: "REJECTED" });
    await expect(lost).rejects.toMatchObject({ code: "CONNECTION_LOST" });
  });
});
