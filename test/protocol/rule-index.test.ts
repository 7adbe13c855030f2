/**
 * PROTOCOL.md's "Rule index": every rule id the document defines, the source files that
 * enforce it and the test files that prove it, as found in the tree (a rule's id in a
 * comment at the enforcing code, in a test's title, or as the `rule` of a vector). The
 * table is compared with what the tree holds now, so it cannot drift:
 * `npm run rules:update` rewrites it.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const PROTOCOL = path.join(ROOT, "PROTOCOL.md");
const HEADING = "## Rule index";
const GENERATED_NOTE =
  "Generated from the tree by `npm run rules:update`; a test fails when it is out of date.";
/** A rule id: capitals, a hyphen, then capitals, digits and hyphens (`[F-LIMIT]`). */
const RULE_ID = /\[([A-Z][A-Z0-9]*-[A-Z0-9-]*[A-Z0-9])\]/g;
/** A vector file names the rule a vector tests as `"rule": "F-LIMIT"`. */
const VECTOR_RULE = /"rule":\s*"([A-Z][A-Z0-9]*-[A-Z0-9-]*[A-Z0-9])"/g;
const SOURCE_EXTENSIONS = [".ts", ".json"];

function filesUnder(directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(path.join(ROOT, directory), { withFileTypes: true })) {
    const relative = path.posix.join(directory, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(relative));
    else if (SOURCE_EXTENSIONS.some((extension) => entry.name.endsWith(extension))) {
      found.push(relative);
    }
  }
  return found.sort();
}

/** The ids named in `text`, as `[ID]`, or (with `vectors`) as a vector's `"rule"`. */
function idsIn(text: string, vectors: boolean): Set<string> {
  const ids = new Set<string>();
  for (const match of text.matchAll(RULE_ID)) ids.add(match[1]!);
  if (vectors) for (const match of text.matchAll(VECTOR_RULE)) ids.add(match[1]!);
  return ids;
}

/** The document without its rule index (which names every id by construction). */
function documentBody(text: string): { body: string; start: number; end: number } {
  const start = text.indexOf(`\n${HEADING}\n`);
  if (start === -1) return { body: text, start: text.length, end: text.length };
  const next = text.indexOf("\n## ", start + 1);
  const end = next === -1 ? text.length : next;
  return { body: text.slice(0, start) + text.slice(end), start, end };
}

function where(files: readonly string[], id: string, vectors: boolean): string[] {
  return files.filter((file) =>
    idsIn(readFileSync(path.join(ROOT, file), "utf8"), vectors).has(id),
  );
}

function ruleIndex(text: string) {
  const defined = [...idsIn(documentBody(text).body, false)].sort();
  const sources = filesUnder("src");
  const tests = filesUnder("test").filter((file) => file !== "test/protocol/rule-index.test.ts");
  const rows = defined.map((id) => ({
    id,
    enforcedIn: where(sources, id, false),
    provedBy: where(tests, id, true),
  }));
  const used = new Set<string>();
  for (const file of [...sources, ...tests]) {
    for (const id of idsIn(readFileSync(path.join(ROOT, file), "utf8"), file.startsWith("test/"))) {
      used.add(id);
    }
  }
  // Only ids with a prefix the document uses count: `[A-Z]` in a regular expression is
  // not a rule.
  const prefixes = new Set(defined.map((id) => id.slice(0, id.indexOf("-"))));
  const undefinedIds = [...used]
    .filter((id) => prefixes.has(id.slice(0, id.indexOf("-"))) && !defined.includes(id))
    .sort();
  return { rows, undefinedIds };
}

function renderIndex(rows: ReturnType<typeof ruleIndex>["rows"]): string {
  const cell = (files: readonly string[]): string =>
    files.length === 0 ? "—" : files.map((file) => `\`${file}\``).join("<br>");
  const lines = [
    HEADING,
    "",
    GENERATED_NOTE,
    "",
    // Left as generated: one row a line, however wide, so that diffs stay readable.
    "<!-- prettier-ignore-start -->",
    "| rule | enforced in | proved by |",
    "| --- | --- | --- |",
    ...rows.map((row) => `| [${row.id}] | ${cell(row.enforcedIn)} | ${cell(row.provedBy)} |`),
    "<!-- prettier-ignore-end -->",
  ];
  return `${lines.join("\n")}\n`;
}

describe("PROTOCOL.md's rule index", () => {
  const text = readFileSync(PROTOCOL, "utf8");
  const { rows, undefinedIds } = ruleIndex(text);
  const expected = renderIndex(rows);

  if (process.env["RULE_INDEX_UPDATE"] === "1") {
    const { start, end } = documentBody(text);
    const updated =
      start === text.length
        ? `${text.trimEnd()}\n\n${expected}`
        : `${text.slice(0, start + 1)}${expected}${text.slice(end)}`;
    writeFileSync(PROTOCOL, updated);
  }

  it("lists every rule the document defines, where it is enforced and proved (npm run rules:update)", () => {
    const current = readFileSync(PROTOCOL, "utf8");
    const { start, end } = documentBody(current);
    expect(current.slice(start + 1, end).trimEnd()).toBe(expected.trimEnd());
  });

  it("every rule has code that enforces it and a test that proves it", () => {
    const missing = rows
      .filter((row) => row.enforcedIn.length === 0 || row.provedBy.length === 0)
      .map(
        (row) =>
          `[${row.id}]${row.enforcedIn.length === 0 ? " no code" : ""}${row.provedBy.length === 0 ? " no test" : ""}`,
      );
    expect(missing).toEqual([]);
  });

  it("names no rule id in src/ or test/ that the document does not define", () => {
    expect(undefinedIds).toEqual([]);
  });
});
