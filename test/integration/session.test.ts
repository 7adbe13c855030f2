/**
 * The version-2 connection against a real server: the Noise handshake [H-PATTERN], what
 * it binds [H-PROLOGUE], what happens with another key [H-FAIL], the session fingerprint
 * [H-FINGERPRINT], the choice of mode and the plaintext policy [H-MODE] [H-POLICY], a
 * version-1 peer either way [P-PREAMBLE], and the handshake and records split at every
 * byte.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { hintFor } from "../../src/cli/hints.js";
import { createKeyFile } from "../../src/crypto/key-file.js";
import { encodeFrame } from "../../src/framing/frame.js";
import { FrameType } from "../../src/protocol/constants.js";
import { encodeHello } from "../../src/protocol/messages.js";
import { UnsupportedVersionError } from "../../src/protocol/unsupported-version-error.js";
import { GbClient } from "../../src/transfer/client.js";
import { fakeIo, testEnv } from "../cli/fake-io.js";
import { SAMPLE_TEXT } from "../support/samples.js";
import {
  HOST,
  RawPeer,
  WAIT_MS,
  connectClient,
  frame,
  makeTempDir,
  plainFileItem,
  preamble,
  startServer,
  storedFiles,
  useResources,
  within,
} from "./helpers.js";
import { startRelay } from "./relay.js";

const resources = useResources();

const FINGERPRINT = /^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/;

/** A raw server on 127.0.0.1 that runs `script` for each connection; closed on release. */
async function rawServer(script: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    script(socket);
  });
  server.listen(0, HOST);
  await within(once(server, "listening"), WAIT_MS, "listening");
  resources.defer(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });
  return (server.address() as AddressInfo).port;
}

describe("the handshake", () => {
  it("[H-PATTERN] [H-FINGERPRINT] a client with the key: an encrypted session, the same fingerprint on both sides", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    expect(client.session.encrypted).toBe(true);
    expect(client.session.fingerprint).toMatch(FINGERPRINT);
    const sent = await client.sendDict({ a: 1 }, { format: "json", name: "d" });
    await client.close();
    expect(sent.encrypted).toBe(true);
    const item = await ts.waitItem();
    expect(item.session).toEqual({ encrypted: true, fingerprint: client.session.fingerprint });
    // Every session has its own fingerprint: the ephemeral keys are fresh.
    const again = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    expect(again.session.fingerprint).toMatch(FINGERPRINT);
    expect(again.session.fingerprint).not.toBe(client.session.fingerprint);
    await again.close();
  });

  it("[H-FAIL] a client with another key: KEY_MISMATCH from the server, in the clear; nothing stored", async () => {
    const ts = await startServer(resources);
    await expect(
      connectClient(resources, ts, { encryption: { key: randomBytes(32) } }),
    ).rejects.toMatchObject({ code: "KEY_MISMATCH", remote: true });
    expect(await ts.waitFailure()).toMatchObject({
      code: "KEY_MISMATCH",
      id: undefined,
      session: { encrypted: false, fingerprint: null },
    });
    const peer = await RawPeer.connect(resources, ts.port);
    await expect(peer.handshake(randomBytes(32))).rejects.toThrow(/KEY_MISMATCH/);
    await peer.waitClosed();
    expect(peer.errors()).toEqual([
      expect.objectContaining({ code: "KEY_MISMATCH", id: undefined }),
    ]);
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
  });

  it("[H-FAIL] a server whose message 2 does not authenticate: KEY_MISMATCH found by the client", async () => {
    const port = await rawServer((socket) => {
      socket.write(
        Buffer.concat([
          preamble(),
          encodeFrame(
            FrameType.HELLO,
            encodeHello({ server: "x", scryptSalt: Buffer.alloc(16), accepts: ["noise"] }),
          ),
        ]),
      );
      // Answers message 1 with 48 bytes of its own: not made with the key.
      socket.once("data", () => socket.write(frame(FrameType.HANDSHAKE, randomBytes(48))));
    });
    await expect(
      GbClient.connect({ host: HOST, port, encryption: { key: randomBytes(32) } }),
    ).rejects.toMatchObject({ code: "KEY_MISMATCH", remote: false });
  });

  it("[H-MESSAGES] a HANDSHAKE of another length than 48 bytes is MALFORMED_MESSAGE", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(Buffer.concat([preamble(), frame(FrameType.HANDSHAKE, randomBytes(49))]));
    expect(await peer.waitError()).toMatchObject({ code: "MALFORMED_MESSAGE", id: undefined });
    await peer.waitClosed();
  });

  it("[H-PROLOGUE] a relay that alters HELLO on its way makes the handshake fail", async () => {
    const ts = await startServer(resources);
    const relay = await startRelay(resources, ts.port, {
      openingToClient: (opening) => {
        const altered = Buffer.from(opening);
        // The server's name: "gb-transfer/…" becomes "Gb-transfer/…", the same length.
        const at = altered.indexOf("gb-transfer/");
        if (at >= 0) altered[at] = "G".charCodeAt(0);
        return altered;
      },
    });
    await expect(
      GbClient.connect({ host: HOST, port: relay.port, encryption: { key: ts.masterKey } }),
    ).rejects.toMatchObject({ code: "KEY_MISMATCH" });
    expect(ts.items).toEqual([]);
  });

  it("[H-FAIL] gb-client with another key exits 5 with a hint", async () => {
    const ts = await startServer(resources);
    const keyFile = `${await makeTempDir(resources)}/key`;
    await createKeyFile(keyFile);
    const fake = fakeIo(await testEnv());
    const code = await within(
      runClient(
        ["--port", String(ts.port), "--encrypt", "--key-file", keyFile, "--file", SAMPLE_TEXT],
        fake.io,
      ),
      WAIT_MS,
      "gb-client",
    );
    expect(code).toBe(ExitCode.KEY);
    expect(fake.stderr.lines.some((line) => line.startsWith("hint: use the same key file"))).toBe(
      true,
    );
    expect(await ts.waitFailure()).toMatchObject({ code: "KEY_MISMATCH" });
  });

  it("[H-FINGERPRINT] gb-client shows the session's fingerprint, the one the server reports", async () => {
    const keyFile = `${await makeTempDir(resources)}/key`;
    const key = await createKeyFile(keyFile);
    const server = await startServer(resources, { masterKey: key });
    for (const json of [false, true]) {
      const fake = fakeIo(await testEnv());
      const args = ["--port", String(server.port), "--encrypt", "--key-file", keyFile];
      const code = await within(
        runClient([...args, ...(json ? ["--json"] : []), "--file", SAMPLE_TEXT], fake.io),
        WAIT_MS,
        "gb-client",
      );
      expect(code).toBe(ExitCode.OK);
      const fingerprint = server.items.at(-1)!.session.fingerprint!;
      expect(fingerprint).toMatch(FINGERPRINT);
      if (json) {
        expect(fake.stdout.json[0]).toEqual({ event: "session", encrypted: true, fingerprint });
      } else {
        expect(fake.stderr.lines).toContain(`session encrypted · fingerprint ${fingerprint}`);
      }
    }
  });
});

describe("the mode and the plaintext policy", () => {
  for (const [policy, accepts] of [
    ["loopback", ["noise", "plain"]],
    ["anyone", ["noise", "plain"]],
    ["never", ["noise"]],
  ] as const) {
    it(`[M-HELLO] [H-POLICY] ${policy}: HELLO to a client on 127.0.0.1 accepts ${accepts.join(", ")}`, async () => {
      const ts = await startServer(resources, { plaintext: policy });
      const peer = await RawPeer.connect(resources, ts.port);
      expect((await peer.hello()).accepts).toEqual(accepts);
    });
  }

  it("[H-MODE] [H-POLICY] an ITEM first where plain is not allowed: ERROR ENCRYPTION_REQUIRED without id, closed, nothing stored", async () => {
    const ts = await startServer(resources, { plaintext: "never" });
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(Buffer.concat([preamble(), plainFileItem(1, "p.txt", Buffer.from("p"))]));
    expect(await peer.waitError()).toMatchObject({ code: "ENCRYPTION_REQUIRED", id: undefined });
    await peer.waitClosed();
    expect(await ts.waitFailure()).toMatchObject({ code: "ENCRYPTION_REQUIRED", id: undefined });
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
  });

  it("[H-MODE] a plain connection cannot switch to a session: HANDSHAKE after an item is UNEXPECTED_FRAME", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainFileItem(1, "p.txt", Buffer.from("p")),
        frame(FrameType.HANDSHAKE, randomBytes(48)),
      ]),
    );
    expect(await peer.waitError((e) => e.id === undefined)).toMatchObject({
      code: "UNEXPECTED_FRAME",
    });
  });

  it("[H-MODE] a second HANDSHAKE inside the session is UNEXPECTED_FRAME (sent in a record)", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.session(resources, ts.port, ts.masterKey);
    await peer.send(frame(FrameType.HANDSHAKE, randomBytes(48)));
    expect(await peer.waitError()).toMatchObject({ code: "UNEXPECTED_FRAME", id: undefined });
    expect(peer.recordError).toBeUndefined();
  });

  it("gb-client without --encrypt against a server taking only encrypted connections: exit 4, a hint naming --encrypt", async () => {
    const ts = await startServer(resources, { plaintext: "never" });
    const fake = fakeIo(await testEnv());
    const code = await within(
      runClient(["--port", String(ts.port), "--file", SAMPLE_TEXT], fake.io),
      WAIT_MS,
      "gb-client",
    );
    expect(code).toBe(ExitCode.REJECTED);
    expect(fake.stderr.lines.some((line) => /^hint: .*--encrypt/.test(line))).toBe(true);
    expect(ts.failures).toEqual([]);
  });

  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((address) => address?.family === "IPv4" && !address.internal)?.address;

  it.skipIf(external === undefined)(
    "[H-POLICY] loopback (the default): a client from another address must be encrypted",
    async () => {
      // startServer binds 127.0.0.1; this test needs the other address: its own server.
      const { GbServer } = await import("../../src/transfer/server.js");
      const masterKey = randomBytes(32);
      const server = await GbServer.listen({ host: external!, port: 0, masterKey, saveDir: null });
      resources.defer(() => server.close(1000));
      const port = server.address().port;
      await expect(GbClient.connect({ host: external!, port })).rejects.toMatchObject({
        code: "ENCRYPTION_REQUIRED",
      });
      const client = await GbClient.connect({
        host: external!,
        port,
        encryption: { key: masterKey },
      });
      expect(client.hello.accepts).toEqual(["noise"]);
      await client.sendDict({ a: 1 }, { format: "json" });
      await client.close();
    },
  );
});

describe("[P-PREAMBLE] a version-1 peer", () => {
  it("a version-1 client gets ERROR UNSUPPORTED_VERSION in the clear, and the connection closes", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(preamble(1));
    expect(await peer.waitError()).toMatchObject({ code: "UNSUPPORTED_VERSION", id: undefined });
    await peer.waitClosed();
    expect(peer.serverVersion).toBe(2);
    expect(await ts.waitFailure()).toMatchObject({ code: "UNSUPPORTED_VERSION" });
  });

  it("a version-1 server: UNSUPPORTED_VERSION before any frame is sent; the hint says to upgrade the server", async () => {
    const received: Buffer[] = [];
    const port = await rawServer((socket) => {
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      socket.write(
        Buffer.concat([
          preamble(1),
          frame(
            FrameType.HELLO,
            Buffer.from(
              '{"server":"gb-transfer/1.0.0","keyId":"00000000000000000000000000000000","scryptSalt":"00000000000000000000000000000000"}',
            ),
          ),
        ]),
      );
    });
    const error: unknown = await GbClient.connect({
      host: HOST,
      port,
      encryption: { key: randomBytes(32) },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect(error).toMatchObject({
      code: "UNSUPPORTED_VERSION",
      peerVersion: 1,
      serverIsOlder: true,
    });
    expect(hintFor(error, "gb-client")).toMatch(/upgrade gb-server/);
    // At most the held-back preamble left: no HANDSHAKE, no item.
    expect(Buffer.concat(received).length).toBeLessThanOrEqual(8);
  });
});

describe("split at every byte", () => {
  it("the handshake and the records, one byte per write from a raw client: stored", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.hello();
    const data = randomBytes(70_000);
    // The handshake by hand, so that every byte of it goes alone.
    const keys = await (async () => {
      const { SessionInitiator, sessionPrologue } =
        await import("../../src/crypto/session-handshake.js");
      const hello = peer.frames[0]!;
      const initiator = new SessionInitiator({
        masterKey: ts.masterKey,
        prologue: sessionPrologue(preamble(), preamble(), encodeFrame(hello.type, hello.payload)),
      });
      for (const byte of Buffer.concat([
        preamble(),
        frame(FrameType.HANDSHAKE, initiator.message1),
      ])) {
        await peer.write(Uint8Array.of(byte));
      }
      await peer.until(() => peer.frames.length > 1, "message 2");
      return initiator.finish(peer.frames[1]!.payload);
    })();
    const { RecordSealer } = await import("../../src/crypto/record-sealer.js");
    const sealer = new RecordSealer(keys.send);
    const item = plainFileItem(1, "bytes.bin", data);
    const records: Buffer[] = [];
    for (let at = 0; at < item.length; at += 65_519) {
      const piece = item.subarray(at, at + 65_519);
      records.push(...sealer.seal([piece], piece.length));
    }
    // Records of the item's frames, each byte written on its own.
    const all = Buffer.concat(records);
    for (let at = 0; at < all.length; at++) peer.socket.write(all.subarray(at, at + 1));
    peer.end();
    await peer.waitClosed();
    const stored = await ts.waitItem();
    expect(stored.bytes).toBe(data.length);
    expect(stored.session.fingerprint).toBe(keys.fingerprint);
    expect(await storedFiles(ts.saveDir!)).toEqual(["bytes.bin"]);
  });

  it("a client and a server whose every byte, both ways, travels alone: the session works", async () => {
    const ts = await startServer(resources);
    const relay = await startRelay(resources, ts.port, { byteByByte: true });
    const client = await connectClient(resources, relay, { encryption: { key: ts.masterKey } });
    const data = randomBytes(3000);
    const { Readable } = await import("node:stream");
    const [dict, file] = await Promise.all([
      client.sendDict({ split: "everywhere" }, { format: "xml", name: "s" }),
      client.sendStream(Readable.from([data]), { name: "f.bin", size: data.length }),
    ]);
    await client.close();
    expect(dict.receipt.savedAs).toBe("s.json");
    expect(file.receipt.savedAs).toBe("f.bin");
    expect(ts.items.map((item) => item.session.fingerprint)).toEqual([
      client.session.fingerprint,
      client.session.fingerprint,
    ]);
  });
});
