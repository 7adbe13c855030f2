import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_ERROR_MESSAGE_BYTES } from "../../src/protocol/constants.js";
import {
  cutErrorMessage,
  decodeError,
  decodeHello,
  decodeItemHeader,
  decodeMeta,
  decodeReceipt,
  itemHeaderText,
  receiptText,
  type ItemHeader,
} from "../../src/protocol/messages.js";
import { protocolErrorCode } from "../support/protocol-error-code.js";

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe("ITEM [M-ITEM]", () => {
  it("round-trips", () => {
    const header: ItemHeader = { id: 7, meta: { kind: "file", name: "a.bin", size: null } };
    expect(decodeItemHeader(Buffer.from(itemHeaderText(header)))).toEqual(header);
    expect(itemHeaderText(header)).toBe(
      '{"id":7,"meta":{"kind":"file","name":"a.bin","size":null}}',
    );
  });

  it("[J-MEMBERS] ignores version 1's members, which are not defined in version 2", () => {
    const header = decodeItemHeader(
      json({ id: 1, encrypted: true, salt: "00", meta: { kind: "file", name: "a", size: 1 } }),
    );
    expect(header).toEqual({ id: 1, meta: { kind: "file", name: "a", size: 1 } });
  });

  it("ignores unknown members", () => {
    const header = decodeItemHeader(
      json({
        id: 1,
        meta: { kind: "dict", format: "xml", name: "d", size: 3, x: 1 },
        future: true,
      }),
    );
    expect(header).toEqual({
      id: 1,
      meta: { kind: "dict", format: "xml", name: "d", size: 3 },
    });
  });

  it.each([
    ["not JSON", Buffer.from("{nope")],
    ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0x7d])],
    ["an array", json([1])],
    ["a missing id", json({ meta: { kind: "file", name: "a", size: 1 } })],
    ["a negative id", json({ id: -1, meta: { kind: "file", name: "a", size: 1 } })],
    ["a fractional size", json({ id: 1, meta: { kind: "file", name: "a", size: 1.5 } })],
    ["an unsafe integer size", json({ id: 1, meta: { kind: "file", name: "a", size: 2 ** 53 } })],
    ["an unknown kind", json({ id: 1, meta: { kind: "dir", name: "a", size: 1 } })],
    [
      "an unknown format",
      json({ id: 1, meta: { kind: "dict", format: "yaml", name: "a", size: 1 } }),
    ],
    [
      "a dictionary without size",
      json({
        id: 1,

        meta: { kind: "dict", format: "json", name: "a", size: null },
      }),
    ],
    [
      "a name over 1024 characters",
      json({ id: 1, meta: { kind: "file", name: "n".repeat(1025), size: 1 } }),
    ],
    ["no meta", json({ id: 1 })],
    [
      "an inherited member name",
      json({
        id: 1,

        meta: { kind: "file", name: "a", size: 1, __proto__: null },
      }),
    ],
  ])("refuses %s with MALFORMED_MESSAGE", (_label, payload) => {
    expect(protocolErrorCode(() => decodeItemHeader(payload))).toBe(
      _label === "an inherited member name" ? undefined : "MALFORMED_MESSAGE",
    );
  });

  it("reads metadata only from own members, so __proto__ tricks are inert", () => {
    const payload = Buffer.from('{"kind":"file","name":"a","size":1,"__proto__":{"polluted":1}}');
    expect(decodeMeta(payload)).toEqual({ kind: "file", name: "a", size: 1 });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

describe("HELLO [M-HELLO], RECEIPT [M-RECEIPT], ERROR [M-ERROR]", () => {
  it('[M-HELLO] decodes a HELLO; accepts is ["noise"] or ["noise","plain"], exactly', () => {
    const hello = decodeHello(
      json({ server: "x", scryptSalt: "cd".repeat(16), accepts: ["noise", "plain"] }),
    );
    expect(hello.scryptSalt.toString("hex")).toBe("cd".repeat(16));
    expect(hello.accepts).toEqual(["noise", "plain"]);
    expect(
      decodeHello(json({ server: "x", scryptSalt: "cd".repeat(16), accepts: ["noise"] })).accepts,
    ).toEqual(["noise"]);
    for (const accepts of [
      undefined,
      [],
      ["plain"],
      ["plain", "noise"],
      ["noise", "noise"],
      ["noise", "plain", "quic"],
      "noise",
    ]) {
      expect(
        protocolErrorCode(() =>
          decodeHello(json({ server: "x", scryptSalt: "cd".repeat(16), accepts })),
        ),
        JSON.stringify(accepts),
      ).toBe("MALFORMED_MESSAGE");
    }
    expect(
      protocolErrorCode(() =>
        decodeHello(json({ server: "x", scryptSalt: "cd", accepts: ["noise"] })),
      ),
    ).toBe("MALFORMED_MESSAGE");
  });

  it("round-trips receipts and refuses a bad hash", () => {
    const receipt = {
      kind: "file",
      name: "n",
      bytes: 3,
      sha256: "0".repeat(64),
      savedAs: null,
    } as const;
    expect(decodeReceipt(Buffer.from(receiptText({ id: 1, receipt })))).toEqual({ id: 1, receipt });
    expect(
      protocolErrorCode(() =>
        decodeReceipt(json({ id: 1, receipt: { ...receipt, sha256: "xyz" } })),
      ),
    ).toBe("MALFORMED_MESSAGE");
  });

  it("keeps unknown error codes as text and the optional id", () => {
    expect(decodeError(json({ code: "SOMETHING_NEW", message: "m" }))).toEqual({
      code: "SOMETHING_NEW",
      message: "m",
      id: undefined,
    });
    expect(decodeError(json({ code: "DICT_INVALID", message: "m", id: 4 })).id).toBe(4);
  });
});

describe("decoders on arbitrary input", () => {
  const decoders = [decodeHello, decodeItemHeader, decodeMeta, decodeReceipt, decodeError];

  it("[J-TEXT] only MALFORMED_MESSAGE escapes, from bytes or from any JSON object", () => {
    const payloads = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc
        .dictionary(
          fc.constantFrom(
            "id",
            "meta",
            "accepts",
            "kind",
            "name",
            "format",
            "size",
            "server",
            "scryptSalt",
            "receipt",
            "bytes",
            "sha256",
            "savedAs",
            "code",
            "message",
            "x",
          ),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map((record) => json(record)),
    );
    fc.assert(
      fc.property(payloads, (payload) => {
        for (const decode of decoders) {
          const code = protocolErrorCode(() => decode(payload));
          expect(code === undefined || code === "MALFORMED_MESSAGE").toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("[M-ERROR-CUT] cutErrorMessage", () => {
  it("keeps the longest prefix of whole code points that fits 4096 bytes with its mark", () => {
    const units = fc.oneof(
      fc.constantFrom("a", "é", "€", "😀", "\ud800", "\udc00"),
      fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
    );
    fc.assert(
      fc.property(fc.array(units, { minLength: 1000, maxLength: 5000 }), (parts) => {
        const message = parts.join("");
        const sent = cutErrorMessage(message);
        const bytes = Buffer.byteLength(sent, "utf8");
        expect(bytes).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
        if (Buffer.byteLength(message, "utf8") <= MAX_ERROR_MESSAGE_BYTES) {
          expect(sent).toBe(message);
          return;
        }
        expect(sent.endsWith("…")).toBe(true);
        const kept = sent.slice(0, -1);
        expect(message.startsWith(kept)).toBe(true);
        // Whole code points: no surrogate pair of the message is split at the cut.
        const next = String.fromCodePoint(message.codePointAt(kept.length)!);
        const nextIsLone = next.length === 1 && /\p{Cs}/u.test(next);
        const nextPoint = nextIsLone ? message[kept.length]! : next;
        expect(Buffer.byteLength(kept + nextPoint + "…", "utf8")).toBeGreaterThan(
          MAX_ERROR_MESSAGE_BYTES,
        );
      }),
      { numRuns: 300 },
    );
  });
});
