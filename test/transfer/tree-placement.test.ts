import { describe, expect, it } from "vitest";
import { MAX_TREE_ENTRIES } from "../../src/protocol/constants.js";
import { TreePlacement } from "../../src/transfer/server/tree-placement.js";
import { protocolErrorCode } from "../support/protocol-error-code.js";

describe("TreePlacement", () => {
  it("[T-LIMIT] the entry after a tree's 1,000,000th is refused with MALFORMED_MESSAGE; the next tree counts afresh", async () => {
    const placement = new TreePlacement(null, () => Promise.resolve());
    await placement.place(placement.order("file", ["t", "first"]));
    for (let i = 2; i <= MAX_TREE_ENTRIES; i++) placement.order("file", ["t", `f${i}`]);
    expect(protocolErrorCode(() => placement.order("file", ["t", "one-too-many"]))).toBe(
      "MALFORMED_MESSAGE",
    );

    const next = new TreePlacement(null, () => Promise.resolve());
    await next.place(next.order("file", ["t", "a"]));
    next.order("dir", ["t"]);
    // The tree closed: a new one starts with a count of its own.
    expect(next.order("dir", ["u"])).toMatchObject({ create: ["u"] });
  });

  it("[T-BATCH] [T-LIMIT] a batch's files count as entries: the batch that would pass 1,000,000 is refused", async () => {
    const placement = new TreePlacement(null, () => Promise.resolve());
    await placement.place(placement.order("file", ["t", "first"]));
    // A batch of 32 counts its first file by its order, the other 31 with more().
    placement.more(MAX_TREE_ENTRIES - 1 - 32);
    placement.order("file", ["t", "batch-first"]);
    placement.more(31);
    expect(
      protocolErrorCode(() => {
        placement.more(1);
      }),
    ).toBe("MALFORMED_MESSAGE");
  });

  it("[T-ORDER] a file opens its missing parents; the innermost open directory's entry closes it", async () => {
    const placement = new TreePlacement(null, () => Promise.resolve());
    const first = placement.order("file", ["t", "a", "b", "x"]);
    expect(first.create).toEqual(["t", "a", "b"]);
    await placement.place(first);
    expect(placement.order("dir", ["t", "a", "b"]).closes).toMatchObject({ sent: "b" });
    expect(placement.order("file", ["t", "a", "c", "y"]).create).toEqual(["c"]);
    // "a" is still open: leaving it before its own entry breaks the order.
    expect(protocolErrorCode(() => placement.order("file", ["t", "z"]))).toBe("MALFORMED_MESSAGE");
  });
});
