import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openOnce } from "../../src/crypto/seal-once.js";
import { deriveItemKeys } from "../../src/crypto/item-keys.js";
import { ChunkOpener } from "../../src/crypto/chunk-opener.js";
import { keyId } from "../../src/crypto/key-id.js";
import { FrameParser } from "../../src/framing/frame-parser.js";
import { encodeFrame } from "../../src/framing/frame.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import {
  CLIENT_FRAME_LIMITS,
  FrameType,
  SERVER_FRAME_LIMITS,
} from "../../src/protocol/constants.js";
import {
  decodeHello,
  decodeItemHeader,
  decodeMeta,
  decodeReceipt,
  decodeReceiptBody,
  encodeError,
  encodeHello,
  itemHeaderText,
  receiptText,
} from "../../src/protocol/messages.js";
import { readProtocolDoc } from "../support/protocol-doc.js";

interface Step {
  what: string;
  hex: string;
  json?: unknown;
  metaPlaintext?: string;
  receiptPlaintext?: string;
  plaintextUtf8?: string;
}
interface Vectors {
  masterKey: string;
  itemSalt: string;
  scryptSalt: string;
  clientToServer: Step[];
  serverToClient: Step[];
}

const vectors = JSON.parse(
  readFileSync(new URL("../vectors/protocol-vectors.json", import.meta.url), "utf8"),
) as Vectors;
const protocolDoc = readProtocolDoc();
const masterKey = Buffer.from(vectors.masterKey, "hex");
const keys = deriveItemKeys(masterKey, Buffer.from(vectors.itemSalt, "hex"));

function frames(steps: readonly Step[], limits: ReadonlyMap<number, number>) {
  const parser = new FrameParser(limits, { expectPreamble: true });
  parser.push(Buffer.concat(steps.map((step) => Buffer.from(step.hex, "hex"))));
  const units = [];
  for (let unit = parser.next(); unit !== undefined; unit = parser.next()) units.push(unit);
  expect(parser.bufferedBytes).toBe(0);
  return units.map((unit) => (unit.kind === "frame" ? unit.frame : undefined));
}

const step = (steps: Step[], index: number): Step => {
  const found = steps[index];
  if (found === undefined) throw new Error(`no step ${index}`);
  return found;
};

describe("protocol test vectors (PROTOCOL.md, Test vectors)", () => {
  it("are all printed in PROTOCOL.md exactly", () => {
    for (const s of [...vectors.clientToServer, ...vectors.serverToClient]) {
      // The document wraps long hex at 64 characters per line.
      const wrapped = s.hex.match(/.{1,64}/g)?.join("\n") ?? "";
      expect(protocolDoc.includes(wrapped), s.what).toBe(true);
    }
  });

  it("client to server: parse to the documented messages", () => {
    const [preamble, item1, last1, item2, last2] = frames(
      vectors.clientToServer,
      CLIENT_FRAME_LIMITS,
    );
    expect(preamble).toBeUndefined();
    expect(item1?.type).toBe(FrameType.ITEM);
    const header1 = decodeItemHeader(item1!.payload);
    expect(header1).toEqual(step(vectors.clientToServer, 1).json);
    expect(last1?.type).toBe(FrameType.LAST_CHUNK);
    expect(last1!.payload.toString()).toBe('{"hello":"world"}');
    const header2 = decodeItemHeader(item2!.payload);
    if (!header2.encrypted) throw new Error("item 2 must be encrypted");
    expect(header2.salt.toString("hex")).toBe(vectors.itemSalt);
    expect(decodeMeta(openOnce(keys.metaKey, header2.sealedMeta))).toEqual(
      JSON.parse(step(vectors.clientToServer, 3).metaPlaintext!),
    );
    expect(last2?.type).toBe(FrameType.LAST_CHUNK);
    const opener = new ChunkOpener(keys.payloadKey, keys.baseNonce);
    expect(opener.openParts([last2!.payload], last2!.payload.length, true).toString()).toBe(
      step(vectors.clientToServer, 4).plaintextUtf8,
    );
  });

  it("client to server: our encoders produce the documented bytes", () => {
    expect(encodePreamble(1).toString("hex")).toBe(step(vectors.clientToServer, 0).hex);
    for (const index of [1, 3]) {
      const s = step(vectors.clientToServer, index);
      const header = decodeItemHeader(Buffer.from(JSON.stringify(s.json)));
      expect(encodeFrame(FrameType.ITEM, Buffer.from(itemHeaderText(header))).toString("hex")).toBe(
        s.hex,
      );
    }
  });

  it("server to client: parse and re-encode to the documented bytes", () => {
    const [preamble, hello, receipt1, receipt2, error3] = frames(
      vectors.serverToClient,
      SERVER_FRAME_LIMITS,
    );
    expect(preamble).toBeUndefined();
    const decodedHello = decodeHello(hello!.payload);
    expect(decodedHello.keyId.equals(keyId(masterKey))).toBe(true);
    expect(decodedHello.scryptSalt.toString("hex")).toBe(vectors.scryptSalt);
    expect(encodeFrame(FrameType.HELLO, encodeHello(decodedHello)).toString("hex")).toBe(
      step(vectors.serverToClient, 1).hex,
    );
    const plain = decodeReceipt(receipt1!.payload);
    expect(encodeFrame(FrameType.RECEIPT, Buffer.from(receiptText(plain))).toString("hex")).toBe(
      step(vectors.serverToClient, 2).hex,
    );
    const sealed = decodeReceipt(receipt2!.payload);
    if (!sealed.encrypted) throw new Error("receipt 2 must be sealed");
    expect(decodeReceiptBody(openOnce(keys.receiptKey, sealed.sealedReceipt))).toEqual(
      JSON.parse(step(vectors.serverToClient, 3).receiptPlaintext!),
    );
    expect(error3?.type).toBe(FrameType.ERROR);
    expect(
      encodeFrame(
        FrameType.ERROR,
        encodeError({ code: "DICT_INVALID", message: "not valid JSON", id: 3 }),
      ).toString("hex"),
    ).toBe(step(vectors.serverToClient, 4).hex);
  });

  it("the sealed chunk matches the independent crypto vector", () => {
    const crypto = JSON.parse(
      readFileSync(new URL("../vectors/crypto-vectors.json", import.meta.url), "utf8"),
    ) as { shortPayload: { chunks: { sealedHex: string }[] } };
    const last2 = step(vectors.clientToServer, 4).hex;
    expect(last2.slice(10)).toBe(crypto.shortPayload.chunks[0]?.sealedHex);
  });
});

describe("the XML example in PROTOCOL.md [C-XML]", () => {
  it("decodes to the values the document describes", async () => {
    const { decodeDict } = await import("../../src/codecs/dict-format.js");
    const section = protocolDoc.slice(protocolDoc.indexOf("### xml [C-XML]"));
    const xml = /```xml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(xml).toBeDefined();
    const { dictJsonText } = await import("../../src/codecs/dict-json-text.js");
    expect(dictJsonText(decodeDict(Buffer.from(xml!), "xml"))).toBe(
      '{"name":"Ada & Co","age":36,"ratio":1.0,"tiny":-1.5e-7,"id":18446744073709551616,' +
        '"ok":true,"nothing":null,"tags":["a",1],"nested":{"":"the empty key"},' +
        '"bell\\u0007":"\\u0000"}',
    );
  });
});
