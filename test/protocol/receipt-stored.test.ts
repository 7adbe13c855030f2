import { describe, expect, it } from "vitest";
import { decodeReceipt, receiptText, type ReceiptBody } from "../../src/protocol/messages.js";
import { protocolErrorCode } from "../support/protocol-error-code.js";

const HASH = "ab".repeat(32);
const STORED = "cd".repeat(32);

function payload(receipt: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ id: 1, receipt }));
}

const dict = { kind: "dict", name: "d.json", bytes: 3, sha256: HASH, savedAs: "d.json" };
const file = { kind: "file", name: "f.txt", bytes: 3, sha256: HASH, savedAs: "f.txt" };

describe("[M-RECEIPT-STORED] the stored file's hash in a dictionary's receipt", () => {
  it("[M-RECEIPT-STORED] round-trips on a stored dictionary's receipt", () => {
    const body: ReceiptBody = { ...dict, kind: "dict", storedSha256: STORED };
    const text = receiptText({ id: 1, receipt: body });
    expect(text).toContain(`"storedSha256":"${STORED}"`);
    expect(decodeReceipt(Buffer.from(text))).toEqual({ id: 1, receipt: body });
  });

  it("[M-RECEIPT-STORED] is absent elsewhere: a file, a dictionary not saved", () => {
    expect(decodeReceipt(payload(file)).receipt.storedSha256).toBeUndefined();
    expect(decodeReceipt(payload({ ...dict, savedAs: null })).receipt).not.toHaveProperty(
      "storedSha256",
    );
  });

  it.each([
    ["a stored dictionary without it", { ...dict }],
    ["a file with it", { ...file, storedSha256: STORED }],
    ["a dictionary not saved with it", { ...dict, savedAs: null, storedSha256: STORED }],
    ["upper-case hex", { ...dict, storedSha256: STORED.toUpperCase() }],
    ["a short hash", { ...dict, storedSha256: "cd" }],
    ["a number", { ...dict, storedSha256: 1 }],
  ])("[M-RECEIPT-STORED] refuses %s: MALFORMED_MESSAGE", (_label, receipt) => {
    expect(protocolErrorCode(() => decodeReceipt(payload(receipt)))).toBe("MALFORMED_MESSAGE");
  });
});
