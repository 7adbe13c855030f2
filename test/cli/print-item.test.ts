import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { MAX_SHOWN_DICT_LINES, prettyJson } from "../../src/cli/print-item.js";

const plain = new Chalk({ level: 0 });

describe("prettyJson", () => {
  it("lays a dictionary out as JSON.stringify(x, null, 2) does", () => {
    const value = { a: [1, { b: null }], "": "x", e: {}, f: [] };
    expect(prettyJson(value, plain)).toBe(JSON.stringify(value, null, 2));
  });

  it("shows at most the line limit and says how much was cut", () => {
    const value = { list: Array.from({ length: 1000 }, (_, i) => i) };
    const lines = prettyJson(value, plain).split("\n");
    expect(lines).toHaveLength(MAX_SHOWN_DICT_LINES + 1);
    // 1000 values plus the 4 lines of brackets around them.
    expect(lines.at(-1)).toMatch(/cut: 804 more lines/);
  });

  it("stays bounded for a huge dictionary and cuts long strings", () => {
    const value = { list: Array.from({ length: 1_000_000 }, () => 0), s: "x".repeat(100_000) };
    const text = prettyJson(value, plain);
    expect(text.length).toBeLessThan(10_000);
    expect(prettyJson({ s: "y".repeat(100_000) }, plain)).toMatch(/…" \(100000 characters\)/);
  });

  it("escapes terminal control characters in keys and strings", () => {
    const text = prettyJson({ "\u001b[31m": "\u009b\u202e" }, plain);
    expect(text).not.toMatch(/[\u001b\u009b\u202e]/);
  });
});
