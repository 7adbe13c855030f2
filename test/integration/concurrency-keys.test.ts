/**
 * Many clients at once, and key agreement: a wrong key, a passphrase, a wrong passphrase.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { deriveKeyFromPassphrase } from "../../src/crypto/passphrase.js";
import { GbClient } from "../../src/transfer/client.js";
import {
  HOST,
  connectClient,
  expectServerHealthy,
  listDir,
  sha256,
  startServer,
  tempFiles,
  useResources,
} from "./helpers.js";

const resources = useResources();

describe("many clients at once", () => {
  it("20 concurrent clients each sending 3 items (same names) all succeed", async () => {
    const ts = await startServer(resources);
    const CLIENTS = 20;
    const runClient = async (
      c: number,
    ): Promise<{ data: Buffer; savedAs: string; sha: string }[]> => {
      const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
      const data = [
        randomBytes(1000 + c * 7919),
        randomBytes(70_000 + c),
        Buffer.from(`client ${c}`),
      ];
      const sent = await Promise.all([
        client.sendStream(Readable.from([data[0]!]), {
          name: "same.bin",
          size: data[0]!.length,
          encrypt: c % 2 === 0,
        }),
        client.sendStream(Readable.from([data[1]!]), {
          name: "same.bin",
          size: null,
          encrypt: c % 3 === 0,
        }),
        client.sendDict(
          { client: c },
          { format: (["json", "msgpack", "xml"] as const)[c % 3]!, name: "same" },
        ),
      ]);
      await client.close();
      return sent.map((s, i) => ({
        data: i === 2 ? Buffer.from(`${JSON.stringify({ client: c }, null, 2)}\n`) : data[i]!,
        savedAs: s.receipt.savedAs!,
        sha: s.sha256,
      }));
    };
    const results = (
      await Promise.all(Array.from({ length: CLIENTS }, (_, c) => runClient(c)))
    ).flat();

    expect(results).toHaveLength(CLIENTS * 3);
    expect(ts.items).toHaveLength(CLIENTS * 3);
    expect(ts.failures).toEqual([]);
    // Every item got its own name, and each stored file holds exactly what was sent.
    const names = results.map((r) => r.savedAs);
    expect(new Set(names).size).toBe(names.length);
    for (const r of results) {
      const saved = await readFile(path.join(ts.saveDir!, r.savedAs));
      expect(saved.equals(r.data)).toBe(true);
      if (!r.savedAs.endsWith(".json")) expect(sha256(saved)).toBe(r.sha);
    }
    expect(await listDir(ts.saveDir!)).toHaveLength(CLIENTS * 3);
    expect(await tempFiles(ts.saveDir!)).toEqual([]);
    await ts.waitNoConnections();
  });
});

describe("keys", () => {
  it("[H-FAIL] a client with a different key gets KEY_MISMATCH on connect; the server stores nothing and reports the failed handshake", async () => {
    const ts = await startServer(resources);
    await expect(
      GbClient.connect({ host: HOST, port: ts.port, encryption: { key: randomBytes(32) } }),
    ).rejects.toMatchObject({ code: "KEY_MISMATCH" });
    await ts.waitNoConnections();
    expect(ts.items).toEqual([]);
    expect(ts.failures.map((f) => [f.code, f.id])).toEqual([["KEY_MISMATCH", undefined]]);
    expect(await listDir(ts.saveDir!)).toEqual([]);
    await expectServerHealthy(resources, ts);
  });

  it("a client key of the wrong length is refused before anything is sent", async () => {
    const ts = await startServer(resources);
    await expect(
      GbClient.connect({ host: HOST, port: ts.port, encryption: { key: randomBytes(16) } }),
    ).rejects.toMatchObject({ code: "KEY_INVALID" });
    await ts.waitNoConnections();
    expect(ts.items).toEqual([]);
    expect(ts.failures).toEqual([]);
  });

  it("passphrase: the right one works end to end, a wrong one gets KEY_MISMATCH", async () => {
    const passphrase = "correct horse battery staple";
    const salt = randomBytes(16);
    const masterKey = await deriveKeyFromPassphrase(passphrase, salt);
    const ts = await startServer(resources, { masterKey, scryptSalt: salt });

    const client = await connectClient(resources, ts, { encryption: { passphrase } });
    expect(client.hello.scryptSalt.equals(salt)).toBe(true);
    const data = randomBytes(100_000);
    const [dict, file] = await Promise.all([
      client.sendDict({ secret: "plans" }, { format: "msgpack", name: "secret", encrypt: true }),
      client.sendStream(Readable.from([data]), {
        name: "secret.bin",
        size: data.length,
        encrypt: true,
      }),
    ]);
    await client.close();
    expect(dict.receipt.savedAs).toBe("secret.json");
    expect(file.receipt).toMatchObject({ sha256: sha256(data), savedAs: "secret.bin" });
    expect(ts.items.map((i) => i.encrypted)).toEqual([true, true]);
    expect((await readFile(path.join(ts.saveDir!, "secret.bin"))).equals(data)).toBe(true);

    await expect(
      GbClient.connect({ host: HOST, port: ts.port, encryption: { passphrase: "wrong horse" } }),
    ).rejects.toMatchObject({ code: "KEY_MISMATCH" });
    await ts.waitNoConnections();
    expect(ts.items).toHaveLength(2);
    expect(ts.failures.map((f) => f.code)).toEqual(["KEY_MISMATCH"]);
  });
});
