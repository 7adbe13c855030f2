/**
 * gb-transfer's use of NNpsk0 on its own [H-PATTERN]: both sides agree, on the keys and
 * the fingerprint, only when they hold the same key and saw the same prologue.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  respondToSession,
  SessionInitiator,
  sessionPrologue,
} from "../../src/crypto/session-handshake.js";
import { sessionFingerprint } from "../../src/crypto/session-fingerprint.js";

const KEY = Buffer.alloc(32, 1);
const PROLOGUE = sessionPrologue(
  Buffer.from("client--"),
  Buffer.from("server--"),
  Buffer.from("hello"),
);

function codeOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
}

describe("the session handshake", () => {
  it("[H-MESSAGES] [H-KEYS] 48-byte messages; c1 carries client to server, c2 the other way", () => {
    const initiator = new SessionInitiator({ masterKey: KEY, prologue: PROLOGUE });
    expect(initiator.message1).toHaveLength(48);
    const { message2, keys: server } = respondToSession(initiator.message1, {
      masterKey: KEY,
      prologue: PROLOGUE,
    });
    expect(message2).toHaveLength(48);
    const client = initiator.finish(message2);
    expect(client.handshakeHash.equals(server.handshakeHash)).toBe(true);
    const sealed = client.send.encryptWithAd(Buffer.alloc(0), Buffer.from("to server"));
    expect(server.receive.decryptWithAd(Buffer.alloc(0), sealed).toString()).toBe("to server");
    const back = server.send.encryptWithAd(Buffer.alloc(0), Buffer.from("to client"));
    expect(client.receive.decryptWithAd(Buffer.alloc(0), back).toString()).toBe("to client");
  });

  it("[H-FINGERPRINT] the same on both sides, four groups of four hex digits, and new every session", () => {
    const fingerprints = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const initiator = new SessionInitiator({ masterKey: KEY, prologue: PROLOGUE });
      const { message2, keys } = respondToSession(initiator.message1, {
        masterKey: KEY,
        prologue: PROLOGUE,
      });
      const client = initiator.finish(message2);
      expect(client.fingerprint).toBe(keys.fingerprint);
      expect(client.fingerprint).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){3}$/);
      expect(client.fingerprint).toBe(sessionFingerprint(client.handshakeHash));
      fingerprints.add(client.fingerprint);
    }
    expect(fingerprints.size).toBe(3);
  });

  it("[H-FAIL] [H-PSK] another key: the server's ReadMessage fails with KEY_MISMATCH", () => {
    const initiator = new SessionInitiator({ masterKey: randomBytes(32), prologue: PROLOGUE });
    expect(
      codeOf(() => respondToSession(initiator.message1, { masterKey: KEY, prologue: PROLOGUE })),
    ).toBe("KEY_MISMATCH");
  });

  it("[H-PROLOGUE] another prologue (an altered HELLO): KEY_MISMATCH", () => {
    const initiator = new SessionInitiator({ masterKey: KEY, prologue: PROLOGUE });
    const altered = sessionPrologue(
      Buffer.from("client--"),
      Buffer.from("server--"),
      Buffer.from("hellO"),
    );
    expect(
      codeOf(() => respondToSession(initiator.message1, { masterKey: KEY, prologue: altered })),
    ).toBe("KEY_MISMATCH");
  });

  it("[H-FAIL] a message 2 tampered with: KEY_MISMATCH at the client", () => {
    const initiator = new SessionInitiator({ masterKey: KEY, prologue: PROLOGUE });
    const { message2 } = respondToSession(initiator.message1, {
      masterKey: KEY,
      prologue: PROLOGUE,
    });
    message2[40]! ^= 1;
    expect(codeOf(() => initiator.finish(message2))).toBe("KEY_MISMATCH");
  });

  it("[H-MESSAGES] a message of another length is MALFORMED_MESSAGE, either way", () => {
    const initiator = new SessionInitiator({ masterKey: KEY, prologue: PROLOGUE });
    expect(
      codeOf(() =>
        respondToSession(Buffer.concat([initiator.message1, Buffer.from([0])]), {
          masterKey: KEY,
          prologue: PROLOGUE,
        }),
      ),
    ).toBe("MALFORMED_MESSAGE");
    expect(codeOf(() => initiator.finish(Buffer.alloc(47)))).toBe("MALFORMED_MESSAGE");
  });

  it("refuses a master key that is not 32 bytes: KEY_INVALID", () => {
    expect(
      codeOf(() => new SessionInitiator({ masterKey: Buffer.alloc(31), prologue: PROLOGUE })),
    ).toBe("KEY_INVALID");
  });
});
