import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  decodeAnswerReceipt,
  decodeError,
  decodeHello,
  decodeItemHeader,
  decodeMeta,
  encodeError,
} from "../../src/protocol/messages.js";
import { MAX_ERROR_MESSAGE_BYTES } from "../../src/protocol/constants.js";
import { decodeOffer, decodeResume } from "../../src/protocol/resume-messages.js";
import { decodeHave, decodeHeld } from "../../src/protocol/tree-messages.js";
import { protocolErrorCode } from "../support/protocol-error-code.js";
import { readProtocolDoc } from "../support/protocol-doc.js";

interface ControlVector {
  rule: string;
  message: "META" | "ITEM" | "HELLO" | "RECEIPT" | "ERROR" | "OFFER" | "RESUME" | "HAVE" | "HELD";
  what: string;
  hex: string;
  value?: unknown;
  error?: string;
}
interface ErrorCut {
  what: string;
  message: string;
  sent: string;
}

const file = JSON.parse(
  readFileSync(new URL("../vectors/control-message-vectors.json", import.meta.url), "utf8"),
) as { vectors: ControlVector[]; errorCuts: ErrorCut[] };
const protocolDoc = readProtocolDoc();

const decoders: Record<ControlVector["message"], (payload: Uint8Array) => unknown> = {
  META: decodeMeta,
  ITEM: decodeItemHeader,
  HELLO: decodeHello,
  // One item's receipt, or [T-BATCH-RECEIPT] a batch's.
  RECEIPT: decodeAnswerReceipt,
  ERROR: decodeError,
  OFFER: decodeOffer,
  RESUME: decodeResume,
  HAVE: decodeHave,
  HELD: decodeHeld,
};

/** A decoded message as the vector file writes it: bytes as hex, absent members left out. */
function comparable(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString("hex");
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(comparable);
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .map(([name, member]) => [name, comparable(member)]),
  );
}

describe("control message vectors (test/vectors/control-message-vectors.json)", () => {
  it("has vectors for every rule they prove", () => {
    const rules = new Set(file.vectors.map((v) => v.rule));
    for (const rule of [
      "J-TEXT",
      "J-BOM",
      "J-DUP",
      "J-INTEGER",
      "J-STRING",
      "J-HEX",
      "J-MEMBERS",
      "M-META-SIZE",
      "M-META-FORMAT",
      "M-HELLO",
      "M-OFFER",
      "M-RESUME",
      "RES-KEY",
      "M-HAVE",
      "M-HELD",
      "RES-TREE",
      "T-BATCH",
      "T-BATCH-RECEIPT",
    ]) {
      expect(rules.has(rule), rule).toBe(true);
    }
  });

  it.each(file.vectors.map((v) => [`[${v.rule}] ${v.message}: ${v.what}`, v] as const))(
    "%s",
    (_title, vector) => {
      const payload = Buffer.from(vector.hex, "hex");
      const decode = decoders[vector.message];
      if (vector.error === undefined) {
        expect(comparable(decode(payload))).toEqual(vector.value);
      } else {
        expect(protocolErrorCode(() => decode(payload))).toBe(vector.error);
      }
    },
  );

  it.each(file.errorCuts.map((cut) => [cut.what, cut] as const))(
    "[M-ERROR-CUT] %s",
    (_title, cut) => {
      const sent = decodeError(encodeError({ code: "X", message: cut.message, id: undefined }));
      expect(sent.message).toBe(cut.sent);
      expect(Buffer.byteLength(sent.message, "utf8")).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    },
  );

  it("are all listed in PROTOCOL.md", () => {
    for (const v of file.vectors) {
      const row = `| [${v.rule}] | ${v.what} | ${v.message} | ${v.error ?? "accepted"} |`;
      expect(protocolDoc.includes(row), row).toBe(true);
    }
    for (const cut of file.errorCuts) {
      expect(protocolDoc.includes(`| ${cut.what} |`), cut.what).toBe(true);
    }
  });
});
