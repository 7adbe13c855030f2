/**
 * The library example in README.md (the `ts` block under "Architecture") runs as written
 * and stores what it sends. The block is read from the README at test time; it runs in a
 * fresh directory (its working directory, so "./received" and "samples/…" resolve there)
 * as a program of its own, where "gb-transfer" resolves to this package through its
 * package.json, as it would for a user. readme-example-probe.ts watches the run; the
 * checks below depend on what the example does, not on the values it uses.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterEach, describe, expect, it } from "vitest";
import { decodeDict, encodeDict } from "../../src/codecs/dict-format.js";
import { SAMPLES } from "../support/samples.js";
import { sha256 } from "../support/sha256.js";
import { TempDirs } from "../support/temp-dirs.js";
import {
  REPORT_VARIABLE,
  type ExampleReport,
  type ReceivedRecord,
  type SentRecord,
} from "./readme-example-report.js";

const ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const PACKAGE_NAME = "gb-transfer";
/** The whole example: start a server, send its items, close both ends. */
const EXAMPLE_TIMEOUT_MS = 20_000;
/** Loading TypeScript, @types/node and the package's declarations on a busy machine. */
const TYPECHECK_TIMEOUT_MS = 60_000;

const tempDirs = new TempDirs();
afterEach(() => tempDirs.removeAll());

describe("the README's library example", () => {
  it("runs, and the server stores every item the client sent, as sent", async () => {
    const dir = await exampleDirectory();
    const program = ts.transpileModule(await exampleSource(), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      reportDiagnostics: true,
    });
    expect(
      program.diagnostics?.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
    ).toEqual([]);
    await writeFile(path.join(dir, "example.mjs"), program.outputText);
    const probe = await writeProbe(dir);

    const reportFile = path.join(dir, "report.json");
    const { exitCode, stderr } = await runNode(
      ["--import", pathToFileURL(probe).href, "example.mjs"],
      { cwd: dir, reportFile },
    );
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });

    const report = parseReport(JSON.parse(await readFile(reportFile, "utf8")));
    expect(report.failures).toEqual([]);
    expect(report.sent.length).toBeGreaterThan(0);
    expect(report.received).toHaveLength(report.sent.length);
    for (const sent of report.sent) {
      expect(sent.error, `${sent.kind} ${sent.source ?? ""}`).toBeNull();
      const received = report.received.find(
        (item) => item.sha256 === sent.result?.sha256 && item.bytes === sent.result.bytes,
      );
      expect(received, `the server's item for the sent ${sent.kind}`).toBeDefined();
      if (received !== undefined) await expectStoredAsSent(dir, sent, received);
    }
  });

  it(
    "type-checks against the package's declarations",
    async () => {
      const dir = await exampleDirectory();
      const file = path.join(dir, "example.ts");
      await writeFile(file, await exampleSource());
      const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        types: ["node"],
        typeRoots: [path.join(ROOT, "node_modules", "@types")],
        skipLibCheck: true,
      });
      const errors = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
        const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
        if (diagnostic.file === undefined || diagnostic.start === undefined) return text;
        const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
        return `${path.basename(diagnostic.file.fileName)}:${line + 1}: ${text}`;
      });
      expect(errors).toEqual([]);
    },
    TYPECHECK_TIMEOUT_MS,
  );
});

/** The first ```ts block of README.md's "Architecture" section. */
async function exampleSource(): Promise<string> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const section = /^## Architecture\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (section === undefined) throw new Error('README.md has no "## Architecture" section');
  const code = /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1];
  if (code === undefined) throw new Error('README.md\'s "Architecture" has no ```ts block');
  if (!new RegExp(`from ["']${PACKAGE_NAME}["']`).test(code))
    throw new Error(`README.md's example does not import from "${PACKAGE_NAME}"`);
  return code;
}

/**
 * A fresh working directory: an ES module package with the samples beside it, where
 * node_modules/gb-transfer links to this package, so the example's import goes through
 * its package.json "exports" to the built entry.
 */
async function exampleDirectory(): Promise<string> {
  const dir = await tempDirs.make("gb-readme-example-");
  await writeFile(path.join(dir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
  await mkdir(path.join(dir, "node_modules"));
  await symlink(ROOT, path.join(dir, "node_modules", PACKAGE_NAME), "dir");
  await mkdir(path.join(dir, "samples"));
  for (const entry of await readdir(SAMPLES, { withFileTypes: true })) {
    if (entry.isFile())
      await copyFile(path.join(SAMPLES, entry.name), path.join(dir, "samples", entry.name));
  }
  return dir;
}

/** The probe, and the module it imports, as JavaScript beside the example. */
async function writeProbe(dir: string): Promise<string> {
  for (const name of ["readme-example-probe", "readme-example-report"]) {
    const source = await readFile(fileURLToPath(new URL(`${name}.ts`, import.meta.url)), "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    await writeFile(path.join(dir, `${name}.js`), outputText);
  }
  return path.join(dir, "readme-example-probe.js");
}

/** Runs node in `cwd` with a small environment of its own, bounded in time. */
function runNode(
  args: string[],
  { cwd, reportFile }: { cwd: string; reportFile: string },
): Promise<{ exitCode: number | null; stderr: string }> {
  const env = {
    PATH: process.env["PATH"] ?? "",
    HOME: cwd,
    XDG_CONFIG_HOME: path.join(cwd, "config"),
    NO_COLOR: "1",
    [REPORT_VARIABLE]: reportFile,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd, env, timeout: EXAMPLE_TIMEOUT_MS, killSignal: "SIGKILL" },
      (error, _stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        const killed = error?.killed === true ? `killed after ${EXAMPLE_TIMEOUT_MS} ms\n` : "";
        resolve({ exitCode: code, stderr: killed + stderr });
      },
    );
  });
}

/** The stored file holds what was sent: a file byte for byte, a dictionary value for value. */
async function expectStoredAsSent(
  dir: string,
  sent: SentRecord,
  received: ReceivedRecord,
): Promise<void> {
  const savedPath = received.savedPath;
  expect(savedPath, "where the item was saved").not.toBeNull();
  if (savedPath === null) return;
  expect(path.relative(dir, savedPath).startsWith(".."), savedPath).toBe(false);
  const stored = await readFile(savedPath);
  switch (sent.kind) {
    case "file":
      expect(sent.source).not.toBeNull();
      expect(stored.equals(await readFile(sent.source ?? "")), savedPath).toBe(true);
      expect(sha256(stored)).toBe(received.sha256);
      break;
    case "stream":
      expect(sha256(stored)).toBe(received.sha256);
      break;
    case "dict": {
      expect(sent.json, "the dictionary, as the package encodes it").not.toBeNull();
      const storedJson = Buffer.from(encodeDict(decodeDict(stored, "json"), "json"));
      expect(storedJson.toString("utf8"), savedPath).toBe(sent.json);
      break;
    }
  }
}

function parseReport(value: unknown): ExampleReport {
  if (
    isObject(value) &&
    Array.isArray(value["sent"]) &&
    value["sent"].every(isSentRecord) &&
    Array.isArray(value["received"]) &&
    value["received"].every(isReceivedRecord) &&
    Array.isArray(value["failures"]) &&
    value["failures"].every(
      (failure) =>
        isObject(failure) &&
        typeof failure["code"] === "string" &&
        typeof failure["message"] === "string",
    )
  ) {
    return {
      sent: value["sent"],
      received: value["received"],
      failures: value["failures"],
    };
  }
  throw new Error(`unexpected report from the probe: ${JSON.stringify(value)}`);
}

function isSentRecord(value: unknown): value is SentRecord {
  if (!isObject(value)) return false;
  const result = value["result"];
  return (
    (value["kind"] === "dict" || value["kind"] === "file" || value["kind"] === "stream") &&
    isStringOrNull(value["source"]) &&
    isStringOrNull(value["json"]) &&
    isStringOrNull(value["error"]) &&
    (result === null ||
      (isObject(result) &&
        typeof result["bytes"] === "number" &&
        typeof result["sha256"] === "string"))
  );
}

function isReceivedRecord(value: unknown): value is ReceivedRecord {
  return (
    isObject(value) &&
    (value["kind"] === "dict" || value["kind"] === "file") &&
    typeof value["bytes"] === "number" &&
    typeof value["sha256"] === "string" &&
    isStringOrNull(value["savedPath"])
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}
