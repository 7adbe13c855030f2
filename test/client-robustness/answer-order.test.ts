/**
 * [K-ORDER] The server answers items strictly in item order. An answer for any item but
 * the oldest one awaiting its answer (out of order, unknown, or not yet all sent) is a
 * protocol failure: UNEXPECTED_FRAME, the connection fails, every pending item fails
 * with it, and gb-client exits 8.
 */
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { GbClient } from "../../src/transfer/client.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout } from "../cli/fake-io.js";
import { SAMPLE_DICT, SAMPLE_TEXT } from "../support/samples.js";
import {
  closeFakeServers,
  fakeServer,
  WAIT_MS,
  type Peer,
  type SeenItem,
} from "../support/fake-server.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

/** Waits for two complete items, then runs `answer` with both. */
function afterTwoItems(answer: (peer: Peer, first: SeenItem, second: SeenItem) => void) {
  return (peer: Peer): void => {
    peer.greet();
    peer.onItemEnd = () => {
      const [first, second] = peer.items;
      if (first?.ended === true && second?.ended === true) answer(peer, first, second);
    };
  };
}

async function sendTwoDicts(port: number): Promise<PromiseSettledResult<unknown>[]> {
  const client = await GbClient.connect({ host: "127.0.0.1", port });
  const results = Promise.allSettled([
    client.sendDict({ n: 1 }, { format: "json", name: "one" }),
    client.sendDict({ n: 2 }, { format: "json", name: "two" }),
  ]);
  const settled = await withTimeout(results, WAIT_MS, "both items");
  await withTimeout(client.close(), WAIT_MS, "close()");
  return settled;
}

function codes(results: PromiseSettledResult<unknown>[]): unknown[] {
  return results.map((result) =>
    result.status === "fulfilled" ? "stored" : (result.reason as { code: unknown }).code,
  );
}

describe("[K-ORDER] answers in item order", () => {
  it("[K-ORDER] a receipt for item 2 while item 1 awaits its answer fails both: UNEXPECTED_FRAME", async () => {
    const port = await fakeServer(
      afterTwoItems((peer, first, second) => {
        peer.receipt(second);
        peer.receipt(first);
      }),
    );
    const results = await sendTwoDicts(port);
    expect(codes(results)).toEqual(["UNEXPECTED_FRAME", "UNEXPECTED_FRAME"]);
    // One connection-wide failure: the same error for both items, not a remote one.
    const [one, two] = results;
    if (one?.status !== "rejected" || two?.status !== "rejected")
      throw new Error("expected failures");
    expect(one.reason).toBe(two.reason);
    expect(one.reason).toMatchObject({ remote: false });
  });

  it("[K-ORDER] an item ERROR for item 2 while item 1 awaits its answer fails both", async () => {
    const port = await fakeServer(
      afterTwoItems((peer, first, second) => {
        peer.error("STORAGE_FAILED", "disk full", second.id);
        peer.receipt(first);
      }),
    );
    expect(codes(await sendTwoDicts(port))).toEqual(["UNEXPECTED_FRAME", "UNEXPECTED_FRAME"]);
  });

  it("[K-ORDER] an item ERROR for an item never sent fails the connection", async () => {
    const port = await fakeServer(
      afterTwoItems((peer) => {
        peer.error("STORAGE_FAILED", "disk full", 7);
      }),
    );
    expect(codes(await sendTwoDicts(port))).toEqual(["UNEXPECTED_FRAME", "UNEXPECTED_FRAME"]);
  });

  it("[K-ORDER] answers in order are taken, the same script otherwise", async () => {
    const port = await fakeServer(
      afterTwoItems((peer, first, second) => {
        peer.error("STORAGE_FAILED", "disk full", first.id);
        peer.receipt(second);
      }),
    );
    expect(codes(await sendTwoDicts(port))).toEqual(["STORAGE_FAILED", "stored"]);
  });

  it("[K-ORDER] a receipt for an item still being sent fails it: UNEXPECTED_FRAME", async () => {
    const port = await fakeServer((peer) => {
      peer.greet();
      peer.onItemStart = (item) => {
        peer.receipt(item);
      };
    });
    const client = await GbClient.connect({ host: "127.0.0.1", port });
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield Buffer.from("hello\n");
      await new Promise(() => undefined); // never settles
    }
    const streamed = client.sendStream(stalled(), { name: "stalled", size: null });
    await expect(withTimeout(streamed, WAIT_MS, "the item")).rejects.toMatchObject({
      code: "UNEXPECTED_FRAME",
    });
    await withTimeout(client.close(), WAIT_MS, "close()");
  });

  it("[K-ORDER] gb-client: exit 8, every pending item failed, one error line", async () => {
    const outOfOrder = afterTwoItems((peer, first, second) => {
      peer.receipt(second);
      peer.receipt(first);
    });
    const argv = (port: number, extra: string[]): string[] => [
      "--port",
      String(port),
      "--dict",
      SAMPLE_DICT,
      "--file",
      SAMPLE_TEXT,
      ...extra,
    ];

    const json = fakeIo(await testEnv());
    const port = await fakeServer(outOfOrder);
    const jsonCode = await withTimeout(runClient(argv(port, ["--json"]), json.io), WAIT_MS, "run");
    expect(jsonCode).toBe(ExitCode.PROTOCOL);
    expect(json.stdout.json).toEqual([
      expect.objectContaining({ event: "failed", id: 1, code: "UNEXPECTED_FRAME" }),
      expect.objectContaining({ event: "failed", id: 2, code: "UNEXPECTED_FRAME" }),
    ]);

    const text = fakeIo(await testEnv());
    const port2 = await fakeServer(outOfOrder);
    const textCode = await withTimeout(runClient(argv(port2, []), text.io), WAIT_MS, "run");
    expect(textCode).toBe(ExitCode.PROTOCOL);
    expect(text.stdout.text).toBe("");
    expect(text.stderr.lines).toEqual([expect.stringMatching(/^error: a receipt for item 2 /)]);
  });
});
