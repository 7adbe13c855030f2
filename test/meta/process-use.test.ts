import path from "node:path";
import { describe, expect, it } from "vitest";
import { describeProcessUse, findProcessUse, type ReadSource } from "./process-use.js";

const ROOT = path.resolve("/project");

/** A file tree in memory: paths relative to ROOT, each with its source text. */
function tree(files: Record<string, string>): ReadSource {
  const byPath = new Map(
    Object.entries(files).map(([name, text]) => [path.join(ROOT, name), text]),
  );
  return (file) => byPath.get(file);
}

function usesOf(files: Record<string, string>, testFile = "test/a.test.ts"): string {
  return describeProcessUse(findProcessUse(path.join(ROOT, testFile), tree(files)), ROOT);
}

const CLEAN_TEST = `import { expect, it } from "vitest";\nit("adds", () => expect(1 + 1).toBe(2));\n`;

describe("findProcessUse", () => {
  it("finds nothing in a test that spawns nothing", () => {
    expect(usesOf({ "test/a.test.ts": CLEAN_TEST })).toBe("");
  });

  it("finds a child_process import in the test file itself, with its line", () => {
    const test = `import { it } from "vitest";\nimport { spawn } from "node:child_process";\n`;
    expect(usesOf({ "test/a.test.ts": test })).toBe(
      'test/a.test.ts: loads "node:child_process" (line 2)',
    );
  });

  it("finds the module under either name, and cluster, loaded any way", () => {
    for (const load of [
      `import cp from "child_process";`,
      `const cp = await import("node:child_process");`,
      `const cp = require("child_process");`,
      `createRequire(import.meta.url)("node:child_process");`,
      `export { fork } from "node:cluster";`,
    ]) {
      expect(usesOf({ "test/a.test.ts": load }), load).toMatch(
        /loads "(node:)?(child_process|cluster)"/,
      );
    }
  });

  it("finds GbServer.listen, however it is awaited", () => {
    const test = `const server = await GbServer.listen({ port: 0 });`;
    expect(usesOf({ "test/a.test.ts": test })).toBe("test/a.test.ts: starts a GbServer (line 1)");
  });

  it("follows relative imports through helpers into src, naming the chain", () => {
    const files = {
      "test/a.test.ts": `import { start } from "./support/helper.js";`,
      "test/support/helper.ts": `export { run as start } from "../../src/runner.js";`,
      "src/runner.ts": `import { spawn } from "node:child_process";\nexport const run = spawn;`,
    };
    expect(usesOf(files)).toBe(
      'test/a.test.ts -> test/support/helper.ts -> src/runner.ts: loads "node:child_process" (line 1)',
    );
  });

  it("resolves a directory import to its index.ts", () => {
    const files = {
      "test/a.test.ts": `import { x } from "../src/lib";`,
      "src/lib/index.ts": `await GbServer.listen({});`,
    };
    expect(usesOf(files)).toBe("test/a.test.ts -> src/lib/index.ts: starts a GbServer (line 1)");
  });

  it("ignores mentions in comments and strings, type-only imports and packages", () => {
    const test = [
      `// GbServer.listen({ port: 0 }) and "node:child_process" in a comment`,
      `import type { ChildProcess } from "node:child_process";`,
      `export type { Server } from "./server-types.js";`,
      `import { GbServer } from "gb-transfer";`,
      `const text = 'import { spawn } from "node:child_process"; GbServer.listen()';`,
      `const names = new Set(["node:child_process", "cluster"]);`,
      `const server: GbServer | undefined = undefined;`,
    ].join("\n");
    const files = {
      "test/a.test.ts": test,
      "test/server-types.ts": `import { spawn } from "node:child_process";`,
    };
    expect(usesOf(files)).toBe("");
  });

  it("visits each module once, even in an import cycle", () => {
    const files = {
      "test/a.test.ts": `import "./b.js";`,
      "test/b.ts": `import "./a.test.js";\nimport "./c.js";`,
      "test/c.ts": `import "./b.js";\nimport "node:child_process";`,
    };
    expect(usesOf(files)).toBe(
      'test/a.test.ts -> test/b.ts -> test/c.ts: loads "node:child_process" (line 2)',
    );
  });

  it("does not parse data files a module imports", () => {
    const files = {
      "test/a.test.ts": `import data from "./data.json" with { type: "json" };`,
      "test/data.json": `{ "module": "node:child_process" }`,
    };
    expect(usesOf(files)).toBe("");
  });
});
