/**
 * The fast loop (`npm run test:fast`, vitest's "fast" project) runs unit and property
 * tests only. Which files it runs is asked of vitest itself, so this test follows
 * vitest.config.ts; each of them is then read for a way to start a child process or a
 * GbServer (see process-use.ts).
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { TempDirs } from "../support/temp-dirs.js";
import { describeProcessUse, findProcessUse, sourcesOnDisk } from "./process-use.js";

const ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const VITEST_CLI = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");
/** Listing starts vitest and globs the tree; generous for a loaded machine. */
const LIST_TIMEOUT_MS = 60_000;

const run = promisify(execFile);
const tempDirs = new TempDirs();
afterEach(() => tempDirs.removeAll());

/** Test file (relative to the repository) -> the vitest project that runs it. */
let projectOf: Map<string, string>;

beforeAll(async () => {
  projectOf = await listTestFiles();
}, LIST_TIMEOUT_MS);

describe("the fast test suite", () => {
  it("runs no test that can start a child process or a GbServer", () => {
    const fast = filesOf("fast");
    expect(fast.length).toBeGreaterThan(0);
    const read = sourcesOnDisk();
    const uses = fast.flatMap((file) => findProcessUse(path.join(ROOT, file), read));
    // Move such a test to test/integration/ or test/e2e/, or name it *.integration.test.ts.
    expect(describeProcessUse(uses, ROOT)).toBe("");
  });

  it("and the integration suite share no file and leave none out", () => {
    const onDisk = readdirSync(path.join(ROOT, "test"), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".test.ts"))
      .map((file) => path.join("test", file))
      .sort();
    expect([...projectOf.keys()].sort()).toEqual(onDisk);
    expect(new Set(projectOf.values())).toEqual(new Set(["fast", "integration"]));
  });

  it("leaves out every end-to-end test, each of which the scan sees start a process", () => {
    const e2e = [...projectOf.keys()].filter((file) =>
      file.startsWith(path.join("test", "e2e") + path.sep),
    );
    expect(e2e.length).toBeGreaterThan(0);
    const read = sourcesOnDisk();
    for (const file of e2e) {
      expect(projectOf.get(file), file).toBe("integration");
      expect(findProcessUse(path.join(ROOT, file), read), file).not.toEqual([]);
    }
  });

  it("includes a new unit test by its place, and a new integration test by its name", () => {
    expect(projectOf.get(path.join("test", "codecs", "json-codec.test.ts"))).toBe("fast");
    expect(projectOf.get(path.join("test", "meta", "fast-suite.integration.test.ts"))).toBe(
      "integration",
    );
  });
});

function filesOf(project: string): string[] {
  return [...projectOf].filter(([, name]) => name === project).map(([file]) => file);
}

/** Every test file vitest would run, from `vitest list`, with its project. */
async function listTestFiles(): Promise<Map<string, string>> {
  const out = path.join(await tempDirs.make("gb-vitest-list-"), "files.json");
  // A clean environment: the variables vitest sets in its workers would leak into the
  // listing's own run.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST")),
  );
  await run(process.execPath, [VITEST_CLI, "list", "--filesOnly", `--json=${out}`], {
    cwd: ROOT,
    env,
    timeout: LIST_TIMEOUT_MS,
  });
  const listed: unknown = JSON.parse(await readFile(out, "utf8"));
  if (!Array.isArray(listed)) throw new Error(`vitest list wrote ${String(listed)}`);
  const files = new Map<string, string>();
  for (const entry of listed as unknown[]) {
    if (
      typeof entry !== "object" ||
      entry === null ||
      !("file" in entry) ||
      typeof entry.file !== "string" ||
      !("projectName" in entry) ||
      typeof entry.projectName !== "string"
    )
      throw new Error(`vitest list wrote an unexpected entry: ${JSON.stringify(entry)}`);
    files.set(path.relative(ROOT, entry.file), entry.projectName);
  }
  return files;
}
