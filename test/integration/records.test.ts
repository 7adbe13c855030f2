/**
 * Records under attack, on loopback, through a relay that changes the bytes on the path
 * [R-RECORD] [R-VERIFY] [R-FAIL] [R-END]: a record tampered with, reordered, dropped,
 * repeated, cut short or given a bad length fails the connection with DECRYPT_FAILED
 * (TRUNCATED for a stream that ends mid-record), nothing of the item it carried is
 * stored, and a recording of a whole session replayed later stores nothing.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import { GbClient } from "../../src/transfer/client.js";
import { GbServer } from "../../src/transfer/server.js";
import {
  connectClient,
  HOST,
  RawPeer,
  expectNoTempFiles,
  expectServerHealthy,
  frame,
  plainItemFrame,
  startServer,
  storedFiles,
  useResources,
  type TestServer,
} from "./helpers.js";
import { startRelay, type RelayOptions } from "./relay.js";

const resources = useResources();

/** A file that takes four records: 200,000 bytes, plus its frames' headers. */
const DATA = randomBytes(200_000);

/**
 * Sends {@link DATA} as one file through a relay with `options`; returns how the item
 * ended (the code it failed with, or "stored") and the server.
 */
async function sendThrough(options: RelayOptions): Promise<{ outcome: unknown; ts: TestServer }> {
  const ts = await startServer(resources);
  const relay = await startRelay(resources, ts.port, options);
  const client = await connectClient(resources, relay, { encryption: { key: ts.masterKey } });
  const outcome = await client
    .sendStream(Readable.from([DATA]), { name: "data.bin", size: DATA.length })
    .then(
      () => "stored",
      (error: unknown) => error,
    );
  await client.close();
  return { outcome, ts };
}

/** The server refused the connection with DECRYPT_FAILED; nothing of the item is on disk. */
async function expectRefused(outcome: unknown, ts: TestServer): Promise<void> {
  expect(outcome).toMatchObject({ code: "DECRYPT_FAILED", remote: true });
  expect(await ts.waitFailure()).toMatchObject({ code: "DECRYPT_FAILED" });
  expect(await storedFiles(ts.saveDir!)).toEqual([]);
  await expectNoTempFiles(ts.saveDir!);
  await expectServerHealthy(resources, ts);
}

describe("records from the client, changed on the way", () => {
  it("unchanged (control): stored", async () => {
    let records = 0;
    const { outcome, ts } = await sendThrough({
      toServer: (record, _index, direction) => {
        records++;
        direction.forward(record);
      },
    });
    expect(outcome).toBe("stored");
    expect(records).toBeGreaterThanOrEqual(4);
    expect(await storedFiles(ts.saveDir!)).toEqual(["data.bin"]);
  });

  it("[R-VERIFY] a byte of a record's ciphertext flipped: DECRYPT_FAILED, nothing stored", async () => {
    const { outcome, ts } = await sendThrough({
      toServer: (record, index, direction) => {
        if (index === 1) record[100]! ^= 0x01;
        direction.forward(record);
      },
    });
    await expectRefused(outcome, ts);
  });

  it("[R-VERIFY] a record's tag flipped: DECRYPT_FAILED", async () => {
    const { outcome, ts } = await sendThrough({
      toServer: (record, index, direction) => {
        if (index === 2) record[record.length - 1]! ^= 0x80;
        direction.forward(record);
      },
    });
    await expectRefused(outcome, ts);
  });

  it("[R-FAIL] two records swapped: DECRYPT_FAILED", async () => {
    let held: Buffer | undefined;
    const { outcome, ts } = await sendThrough({
      toServer: (record, index, direction) => {
        if (index === 1) held = record;
        else {
          direction.forward(record);
          if (index === 2 && held !== undefined) direction.forward(held);
        }
      },
    });
    await expectRefused(outcome, ts);
  });

  it("[R-FAIL] a record dropped: DECRYPT_FAILED", async () => {
    const { outcome, ts } = await sendThrough({
      toServer: (record, index, direction) => {
        if (index !== 1) direction.forward(record);
      },
    });
    await expectRefused(outcome, ts);
  });

  it("[R-FAIL] a record repeated (replayed within the session): DECRYPT_FAILED", async () => {
    const { outcome, ts } = await sendThrough({
      toServer: (record, index, direction) => {
        direction.forward(record);
        if (index === 1) direction.forward(record);
      },
    });
    await expectRefused(outcome, ts);
  });

  it("[R-RECORD] a record whose length says 16 (an empty record): DECRYPT_FAILED", async () => {
    const { outcome, ts } = await sendThrough({
      toServer: (record, index, direction) => {
        if (index === 1)
          direction.forward(Buffer.concat([Buffer.from("0010", "hex"), randomBytes(16)]));
        direction.forward(record);
      },
    });
    await expectRefused(outcome, ts);
  });

  it("[R-END] the stream cut in the middle of a record: TRUNCATED, nothing stored", async () => {
    const ts = await startServer(resources);
    const relay = await startRelay(resources, ts.port, {
      toServer: (record, index, direction) => {
        if (index < 1) direction.forward(record);
        else if (index === 1) {
          direction.forward(record.subarray(0, 1000));
          direction.end();
        }
      },
    });
    const client = await connectClient(resources, relay, { encryption: { key: ts.masterKey } });
    const sent = client.sendStream(Readable.from([DATA]), { name: "data.bin", size: DATA.length });
    await expect(sent).rejects.toMatchObject({ code: "TRUNCATED" });
    expect(await ts.waitFailure()).toMatchObject({ code: "TRUNCATED" });
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);
  });
});

describe("records from the server, changed on the way", () => {
  it("[R-FAIL] a RECEIPT's record tampered with: the client fails the item with DECRYPT_FAILED (found locally)", async () => {
    const { outcome } = await sendThrough({
      toClient: (record, _index, direction) => {
        record[5]! ^= 0x01;
        direction.forward(record);
      },
    });
    expect(outcome).toMatchObject({ code: "DECRYPT_FAILED", remote: false });
  });

  it("[R-FAIL] every item awaiting its answer fails with DECRYPT_FAILED", async () => {
    const ts = await startServer(resources);
    const relay = await startRelay(resources, ts.port, {
      toClient: (record, _index, direction) => {
        record[record.length - 1]! ^= 0x01;
        direction.forward(record);
      },
    });
    const client = await connectClient(resources, relay, { encryption: { key: ts.masterKey } });
    const results = await Promise.allSettled([
      client.sendDict({ a: 1 }, { format: "json", name: "a" }),
      client.sendDict({ b: 2 }, { format: "json", name: "b" }),
    ]);
    expect(
      results.map((r) => (r.status === "rejected" ? (r.reason as { code: string }).code : "ok")),
    ).toEqual(["DECRYPT_FAILED", "DECRYPT_FAILED"]);
  });
});

describe("[R-FAIL] a raw peer in a session", () => {
  it("a bad record gets ERROR DECRYPT_FAILED sent in a record (the server's sending state is intact)", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.session(resources, ts.port, ts.masterKey);
    const record = peer.seal(plainItemFrame(1, { kind: "file", name: "x", size: 1 }));
    record[10]! ^= 0x01;
    await peer.write(record);
    const error = await peer.waitError();
    expect(error).toMatchObject({ code: "DECRYPT_FAILED", id: undefined });
    expect(peer.recordError).toBeUndefined();
    await peer.waitClosed();
  });

  it("frames before a bad record are handled; the item they finished is stored", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.session(resources, ts.port, ts.masterKey);
    const good = peer.seal(
      Buffer.concat([
        plainItemFrame(1, { kind: "file", name: "ok.txt", size: 2 }),
        frame(FrameType.LAST_CHUNK, Buffer.from("ok")),
      ]),
    );
    const bad = peer.seal(plainItemFrame(2, { kind: "file", name: "x", size: 1 }));
    bad[3]! ^= 0x01;
    await peer.write(Buffer.concat([good, bad]));
    await peer.waitClosed();
    expect(peer.answers().map((f) => f.type)).toEqual([FrameType.RECEIPT, FrameType.ERROR]);
    expect(await storedFiles(ts.saveDir!)).toEqual(["ok.txt"]);
  });
});

describe("a recorded session replayed", () => {
  it("[R-FAIL] stores nothing: the server's fresh ephemeral key makes the recorded records fail, also after a restart", async () => {
    const ts = await startServer(resources);
    let relayedMessage2: Buffer | undefined;
    const relay = await startRelay(resources, ts.port, {
      openingToClient: (unit) => {
        if (unit[0] === FrameType.HANDSHAKE) relayedMessage2 = Buffer.from(unit.subarray(5));
        return unit;
      },
    });
    const client = await GbClient.connect({
      host: HOST,
      port: relay.port,
      encryption: { key: ts.masterKey },
    });
    await client.sendDict({ pay: 100 }, { format: "json", name: "order" });
    await client.close();
    expect(await storedFiles(ts.saveDir!)).toEqual(["order.json"]);
    const recording = Buffer.concat(relay.recorded[0]!);

    const recordedMessage2 = relayedMessage2;
    const replay = await RawPeer.connect(resources, ts.port);
    await replay.write(recording);
    // The server answers message 1 anew (another message 2), then the recorded records
    // fail; the ERROR it seals for them is for a peer that holds the new keys.
    await replay.until(() => replay.frames.length >= 2, "message 2");
    expect(replay.frames[1]!.type).toBe(FrameType.HANDSHAKE);
    expect(replay.frames[1]!.payload.equals(recordedMessage2!)).toBe(false);
    await replay.waitClosed();
    expect(await ts.waitFailure((f) => f.code === "DECRYPT_FAILED")).toMatchObject({
      id: undefined,
    });
    expect(ts.items).toHaveLength(1);
    expect(await storedFiles(ts.saveDir!)).toEqual(["order.json"]);

    // A new run of the server, the same key: its HELLO announces a new scrypt salt, so the
    // recorded message 1 does not even authenticate [H-PROLOGUE].
    const restarted = await GbServer.listen({
      host: HOST,
      port: 0,
      masterKey: ts.masterKey,
      saveDir: ts.saveDir,
      durable: false,
    });
    resources.defer(() => restarted.close(1000));
    const items: unknown[] = [];
    const failures: { code: string }[] = [];
    restarted.on("item", (item) => items.push(item));
    restarted.on("failure", (failure) => failures.push(failure));
    const again = await RawPeer.connect(resources, restarted.address().port);
    await again.write(recording);
    await again.waitClosed();
    expect(failures.map((f) => f.code)).toEqual(["KEY_MISMATCH"]);
    expect(items).toEqual([]);
    expect(await storedFiles(ts.saveDir!)).toEqual(["order.json"]);
  });
});
