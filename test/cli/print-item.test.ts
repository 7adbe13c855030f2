import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import {
  failureLine,
  itemHeading,
  MAX_SHOWN_DICT_LINES,
  prettyJson,
} from "../../src/cli/print-item.js";
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

describe("[H-FINGERPRINT] the session in gb-server's lines", () => {
  const session = { encrypted: true, fingerprint: "7f3a-91c2-0b4e-d8a1" } as const;
  const item = {
    connectionId: 1,
    remote: "127.0.0.1:5000",
    id: 1,
    kind: "file",
    name: "notes.txt",
    format: undefined,
    encrypted: true,
    session,
    bytes: 3,
    sha256: "0".repeat(64),
    savedAs: null,
    savedPath: null,
    value: undefined,
    printable: undefined,
    jsonText: undefined,
    preview: Buffer.from("abc"),
  } as const;

  it("an item's heading names its session's fingerprint; a plain one none", () => {
    expect(itemHeading(item, plain)).toContain("encrypted, session 7f3a-91c2-0b4e-d8a1");
    const plainItem = {
      ...item,
      encrypted: false,
      session: { encrypted: false, fingerprint: null },
    };
    expect(itemHeading(plainItem, plain)).not.toContain("session");
  });

  it("a failure line names the session it happened in", () => {
    const failure = {
      connectionId: 1,
      remote: "127.0.0.1:5000",
      id: undefined,
      name: undefined,
      code: "DECRYPT_FAILED",
      message: "a record failed authentication",
      session,
    };
    expect(failureLine(failure)).toBe(
      "connection 1 from 127.0.0.1:5000 (session 7f3a-91c2-0b4e-d8a1) failed: DECRYPT_FAILED: a record failed authentication",
    );
  });
});
