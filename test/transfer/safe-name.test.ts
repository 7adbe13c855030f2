import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_SAFE_NAME_BYTES,
  numberedName,
  safeName,
} from "../../src/transfer/server/safe-name.js";
import { docString } from "../support/doc-string.js";
import { readProtocolDoc } from "../support/protocol-doc.js";

interface NameVector {
  what: string;
  name: string;
  file: string;
  dict: string;
}
interface NumberVector {
  name: string;
  number: number;
  numbered: string;
}

const vectors = JSON.parse(
  readFileSync(new URL("../vectors/safe-name-vectors.json", import.meta.url), "utf8"),
) as { names: NameVector[]; numbering: NumberVector[] };
const protocolDoc = readProtocolDoc();

describe("[V-NAME] safe names (test/vectors/safe-name-vectors.json)", () => {
  it.each(vectors.names.map((v) => [v.what, v] as const))("[V-NAME] %s", (_what, vector) => {
    expect(safeName(vector.name, "file")).toBe(vector.file);
    expect(safeName(vector.name, "dict")).toBe(vector.dict);
    expect(Buffer.byteLength(vector.file)).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
    expect(Buffer.byteLength(vector.dict)).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
  });

  it.each(vectors.numbering.map((v) => [v.name, v.number, v] as const))(
    "[V-NAME-NUMBER] %s, number %i",
    (_name, _number, vector) => {
      expect(numberedName(vector.name, vector.number)).toBe(vector.numbered);
    },
  );

  it("are all printed in PROTOCOL.md's tables", () => {
    for (const vector of vectors.names) {
      const row = `| ${docString(vector.name)} | ${docString(vector.file)} | ${docString(vector.dict)} |`;
      expect(protocolDoc.includes(row), row).toBe(true);
    }
    for (const vector of vectors.numbering) {
      const row = `| ${docString(vector.name)} | ${vector.number} | ${docString(vector.numbered)} |`;
      expect(protocolDoc.includes(row), row).toBe(true);
    }
  });

  it("the file rule keeps only the last component; a dictionary gets .json", () => {
    expect(safeName("../x.tar.gz", "file")).toBe("x.tar.gz");
    expect(safeName("../x.tar.gz", "dict")).toBe("x.json");
  });
});

// Invariants over arbitrary names: what [V-NAME] promises of every stored name.
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
const tricky = fc.constantFrom(
  ".",
  " ",
  "/",
  "\\",
  "\uff0f",
  "\uff0e",
  "\u2024",
  "\u200b",
  "\u202e",
  "\u0301",
  "\u3000",
  "\u2028",
  "\u00b9",
  "con",
  "COM",
  "lpt",
  "conin$",
  ".tar",
  ".gz",
  "\ud800",
  "\ud83d\ude00",
  "\u20ac",
  "a",
);
const names = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: anyUnit, maxLength: 40 }),
  fc.array(tricky, { maxLength: 30 }).map((parts) => parts.join("")),
  fc
    .tuple(
      fc.array(tricky, { maxLength: 6 }),
      fc.nat({ max: 300 }),
      fc.array(tricky, { maxLength: 6 }),
    )
    .map(([head, spaces, tail]) => `${head.join("")}${" ".repeat(spaces)}${tail.join("")}`),
  // A device name followed by white space a cut may expose.
  fc
    .tuple(
      fc.constantFrom("con", "PRN", "Aux", "nul", "COM\u00b9", "lpt0", "conout$"),
      fc.constantFrom(" ", "\u3000", "\u2028"),
      fc.integer({ min: 60, max: 260 }),
      fc.array(tricky, { maxLength: 4 }),
    )
    .map(([device, space, count, tail]) => device + space.repeat(count) + tail.join("")),
  fc
    .tuple(
      fc.string({ unit: "binary", minLength: 150, maxLength: 260 }),
      fc.array(tricky, { maxLength: 4 }),
    )
    .map(([long, tail]) => long + tail.join("")),
);

const DEVICE = /^(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]|CONIN\$|CONOUT\$)$/;

function expectSafe(stored: string): void {
  expect(stored).not.toBe("");
  expect(Buffer.byteLength(stored, "utf8")).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
  expect(stored).not.toMatch(/\p{Cs}/u);
  expect(stored).not.toMatch(/[/\\\u0000-\u001f\u007f-\u009f<>:"|?*]/u);
  expect(stored).not.toMatch(/[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u);
  expect(stored).not.toMatch(/^[.\p{White_Space}]|[.\p{White_Space}]$/u);
  const head = stored.split(".")[0]!.replace(/\p{White_Space}+$/u, "");
  expect(DEVICE.test(head.toUpperCase())).toBe(false);
  expect(stored.normalize("NFKC")).toBe(stored);
}

describe("[V-NAME] on arbitrary names", () => {
  it("every stored name is safe, and stores as itself as a file", () => {
    fc.assert(
      fc.property(names, fc.constantFrom<"file" | "dict">("file", "dict"), (name, kind) => {
        const stored = safeName(name, kind);
        expectSafe(stored);
        // A stored name is its own stored name as a file. (Not always as a dictionary:
        // "x.tar.tar.gz" is stored as "x.tar.json", whose extension is ".tar.json".)
        expect(safeName(stored, "file")).toBe(stored);
        if (kind === "dict") expect(stored.endsWith(".json")).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it("[V-NAME-NUMBER] [V-NAME-EXT] a numbered name stays safe and keeps the extension", () => {
    fc.assert(
      fc.property(names, fc.integer({ min: 1, max: 2 ** 32 - 1 }), (name, number) => {
        const stored = safeName(name, "file");
        const numbered = numberedName(stored, number);
        expect(numbered).not.toBe(stored);
        expect(numbered).toContain(`-${number}`);
        // The suffix adds at most "-4294967295", 11 bytes.
        expect(Buffer.byteLength(numbered)).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES + 11);
        expect(numbered).not.toMatch(/^[.\p{White_Space}]|[.\p{White_Space}]$/u);
        const head = numbered.split(".")[0]!.replace(/\p{White_Space}+$/u, "");
        expect(DEVICE.test(head.toUpperCase())).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
