import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { MAX_SHOWN_DICT_LINES, prettyJson } from "../../src/cli/print-item.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { formatStoredDict } from "../../src/transfer/server/format-stored-dict.js";
import { dict } from "../codecs/expect-same-dict.js";

const plain = new Chalk({ level: 0 });

describe("prettyJson", () => {
  it("lays a dictionary out as JSON.stringify(x, null, 2) does", () => {
    const value = { a: [1, { b: null }], "": "x", e: {}, f: [] };
    expect(prettyJson(toDictObject(value), plain)).toBe(JSON.stringify(value, null, 2));
  });

  it("shows what the server stores: order, integers, floats with .0, -0.0", () => {
    const value = dict(["10", 9007199254740993n], ["2", [1.0, -0, 0.5]], ["1", dict(["z", 0n])]);
    expect(`${prettyJson(value, plain)}\n`).toBe(formatStoredDict(value, 100).toString());
  });

  it("shows at most the line limit and says how much was cut", () => {
    const value = toDictObject({ list: Array.from({ length: 1000 }, (_, i) => i) });
    const lines = prettyJson(value, plain).split("\n");
    expect(lines).toHaveLength(MAX_SHOWN_DICT_LINES + 1);
    // 1000 values plus the 4 lines of brackets around them.
    expect(lines.at(-1)).toMatch(/cut: 804 more lines/);
  });

  it("stays bounded for a huge dictionary and cuts long strings", () => {
    const value = dict(
      ["list", Array.from({ length: 1_000_000 }, () => 0n)],
      ["s", "x".repeat(100_000)],
    );
    const text = prettyJson(value, plain);
    expect(text.length).toBeLessThan(10_000);
    expect(prettyJson(dict(["s", "y".repeat(100_000)]), plain)).toMatch(/…" \(100000 characters\)/);
  });

  it("shows a huge integer by its size, not its digits", () => {
    expect(prettyJson(dict(["n", 7n ** 100n]), plain)).toContain(`"n": ${(7n ** 100n).toString()}`);
    expect(prettyJson(dict(["n", -(10n ** 5000n)]), plain)).toContain(
      '"n": -… (an integer of about 5001 digits)',
    );
  });

  it("escapes terminal control characters in keys and strings", () => {
    const text = prettyJson(dict(["\u001b[31m", "\u009b\u202e"]), plain);
    expect(text).not.toMatch(/[\u001b\u009b\u202e]/);
  });
});
