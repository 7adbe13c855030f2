import { describe, expect, it } from "vitest";
import { ErrorCode, NetworkError } from "../../src/errors.js";
import { MAX_HELD_FRAME_BYTES } from "../../src/protocol/constants.js";
import type { ReceiptBody } from "../../src/protocol/messages.js";
import { HeldAnswers } from "../../src/transfer/client/held-answers.js";
import {
  decodeHave,
  decodeHeld,
  encodeHeld,
  MAX_HAVE_KEYS,
} from "../../src/protocol/tree-messages.js";
import { protocolErrorCode } from "../support/protocol-error-code.js";

const TREE = "ab".repeat(32);
const SHA = "cd".repeat(32);

function key(index: number): string {
  return index.toString(16).padStart(64, "0");
}

function receipt(savedAs: string): ReceiptBody {
  return { kind: "file", name: "a", bytes: 1, sha256: SHA, savedAs };
}

describe("HAVE and HELD, the client's side", () => {
  it("[RES-HAVE] asks in HAVE frames of at most 200 keys and puts the answers back in order", async () => {
    const answers = new HeldAnswers();
    const sent: Buffer[] = [];
    const keys = Array.from({ length: 450 }, (_, index) => key(index));
    const held = answers.ask(TREE, keys, (have) => sent.push(have));
    expect(sent.map((have) => decodeHave(have).keys.length)).toEqual([200, 200, 50]);
    expect(answers.idle).toBe(false);
    for (const have of sent) {
      const asked = decodeHave(have).keys;
      const answer = asked.map((k) => (k === key(3) ? receipt("t/a") : null));
      answers.receive(encodeHeld({ tree: TREE, held: answer }));
    }
    const result = await held;
    expect(result).toHaveLength(450);
    expect(result.filter((r) => r !== null)).toEqual([receipt("t/a")]);
    expect(result[3]).toEqual(receipt("t/a"));
    expect(answers.idle).toBe(true);
  });

  it("[M-HELD] remembers the trees the server holds nothing of", async () => {
    const answers = new HeldAnswers();
    const other = "ef".repeat(32);
    const first = answers.ask(TREE, [key(1)], () => undefined);
    const second = answers.ask(other, [key(2)], () => undefined);
    expect(answers.holdsNothing(TREE)).toBe(false);
    answers.receive(encodeHeld({ tree: TREE, held: [null], nothing: true }));
    answers.receive(encodeHeld({ tree: other, held: [null] }));
    await expect(first).resolves.toEqual([null]);
    await expect(second).resolves.toEqual([null]);
    expect(answers.holdsNothing(TREE)).toBe(true);
    expect(answers.holdsNothing(other)).toBe(false);
  });

  it("[M-HELD] a HELD nobody asked for is UNEXPECTED_FRAME; one of the wrong length or tree MALFORMED_MESSAGE", () => {
    const answers = new HeldAnswers();
    const one = encodeHeld({ tree: TREE, held: [null] });
    expect(
      protocolErrorCode(() => {
        answers.receive(one);
      }),
    ).toBe(ErrorCode.UNEXPECTED_FRAME);
    void answers.ask(TREE, [key(1), key(2)], () => undefined).catch(() => undefined);
    expect(
      protocolErrorCode(() => {
        answers.receive(one);
      }),
    ).toBe(ErrorCode.MALFORMED_MESSAGE);
    void answers.ask(TREE, [key(1)], () => undefined).catch(() => undefined);
    const other = encodeHeld({ tree: "ef".repeat(32), held: [null] });
    expect(
      protocolErrorCode(() => {
        answers.receive(other);
      }),
    ).toBe(ErrorCode.MALFORMED_MESSAGE);
  });

  it("[RES-HAVE] a connection that fails fails every HAVE awaiting its answer", async () => {
    const answers = new HeldAnswers();
    const held = answers.ask(TREE, [key(1)], () => undefined);
    answers.fail(new NetworkError(ErrorCode.CONNECTION_LOST, "gone"));
    await expect(held).rejects.toMatchObject({ code: ErrorCode.CONNECTION_LOST });
    expect(answers.idle).toBe(true);
  });

  it("[M-HELD] a server answers null for receipts that would take a HELD over 1 MiB", () => {
    // A name of control characters is escaped 6 bytes each: about 10 KB a receipt.
    const long = { ...receipt("x/".repeat(2047) + "y"), name: "\u0001".repeat(1024) };
    const held = Array.from({ length: MAX_HAVE_KEYS }, () => long);
    const payload = encodeHeld({ tree: TREE, held });
    expect(payload.length).toBeLessThanOrEqual(MAX_HELD_FRAME_BYTES);
    const decoded = decodeHeld(payload).held;
    expect(decoded).toHaveLength(MAX_HAVE_KEYS);
    const kept = decoded.filter((answer) => answer !== null).length;
    expect(kept).toBeGreaterThan(100);
    expect(kept).toBeLessThan(MAX_HAVE_KEYS);
    // The ones kept are the first ones: the rest are sent again.
    expect(decoded.slice(0, kept).every((answer) => answer !== null)).toBe(true);
  });
});
