/**
 * Finds, by reading source text, whether a test file can start a child process or a
 * GbServer: through its own code or any module it reaches by relative imports (its
 * helpers, and the src/ or bench/ modules they load). Packages in node_modules are not
 * followed. Reachable is enough: a fast test must not be one refactoring away from
 * spawning, and a module that mixes pure helpers with process control is better split.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** Files the scan parses: scripts, not JSON or other data a module may import. */
const SCRIPT_FILE = /\.[cm]?[jt]sx?$/;

/** Modules whose loading means the code can start another process. */
const PROCESS_MODULES = new Set(["child_process", "node:child_process", "cluster", "node:cluster"]);

/** One way a module can start a process or a server, and how the test reaches it. */
export interface ProcessUse {
  /** Files from the test file to the module that does it, the test file first. */
  readonly chain: readonly string[];
  /** What the last file in the chain does, with its line (1-based). */
  readonly what: string;
}

/** Reads a module's source text, or returns undefined when there is no such file. */
export type ReadSource = (file: string) => string | undefined;

/**
 * Every module reachable from `testFile` that loads a process module or calls
 * `GbServer.listen`, each with the shortest import chain that reaches it.
 */
export function findProcessUse(testFile: string, readSource: ReadSource): ProcessUse[] {
  const uses: ProcessUse[] = [];
  const parentOf = new Map<string, string | null>([[testFile, null]]);
  const queue = [testFile];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const source = readSource(next);
    if (source === undefined) continue;
    const { imports, findings } = scanModule(next, source);
    for (const what of findings) uses.push({ chain: chainTo(next, parentOf), what });
    for (const specifier of imports) {
      const resolved = resolveRelative(next, specifier, readSource);
      if (resolved === undefined || parentOf.has(resolved)) continue;
      parentOf.set(resolved, next);
      queue.push(resolved);
    }
  }
  return uses;
}

/** Renders uses as lines such as `a.test.ts -> helper.ts: loads "node:child_process" (line 3)`. */
export function describeProcessUse(uses: readonly ProcessUse[], root: string): string {
  return uses
    .map((use) => {
      const chain = use.chain.map((file) => path.relative(root, file)).join(" -> ");
      return `${chain}: ${use.what}`;
    })
    .join("\n");
}

function chainTo(file: string, parentOf: ReadonlyMap<string, string | null>): string[] {
  const chain: string[] = [];
  for (let at: string | null | undefined = file; typeof at === "string"; at = parentOf.get(at))
    chain.unshift(at);
  return chain;
}

interface ModuleScan {
  /** Relative module specifiers the module loads at run time (type-only imports left out). */
  readonly imports: string[];
  readonly findings: string[];
}

function scanModule(file: string, source: string): ModuleScan {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const imports: string[] = [];
  const findings: string[] = [];
  const line = (node: ts.Node): number =>
    sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1;

  const visit = (node: ts.Node): void => {
    if (isTypeOnly(node)) return;
    const specifier = moduleSpecifierOf(node);
    if (specifier?.startsWith(".") === true) imports.push(specifier);
    if (ts.isStringLiteralLike(node) && PROCESS_MODULES.has(node.text) && isLoaded(node))
      findings.push(`loads "${node.text}" (line ${line(node)})`);
    if (isGbServerStart(node)) findings.push(`starts a GbServer (line ${line(node)})`);
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return { imports, findings };
}

/**
 * `import type …` and `export type … from` load nothing at run time. (`import { type A }`
 * does: verbatimModuleSyntax keeps it as `import {} from`.)
 */
function isTypeOnly(node: ts.Node): boolean {
  if (ts.isImportDeclaration(node))
    return node.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword;
  if (ts.isExportDeclaration(node)) return node.isTypeOnly;
  return false;
}

/**
 * Whether a string names a module being loaded: in an import or export, or passed to a
 * call (`import()`, `require()`, `createRequire(…)()`). A list of names to look for,
 * like this file's own, is not a use.
 */
function isLoaded(literal: ts.StringLiteralLike): boolean {
  const parent = literal.parent;
  return (
    ts.isImportDeclaration(parent) ||
    ts.isExportDeclaration(parent) ||
    ts.isExternalModuleReference(parent) ||
    (ts.isCallExpression(parent) && parent.arguments.includes(literal))
  );
}

/** The module a static import, a re-export or a dynamic `import()` loads. */
function moduleSpecifierOf(node: ts.Node): string | undefined {
  if (
    (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
    node.moduleSpecifier !== undefined &&
    ts.isStringLiteral(node.moduleSpecifier)
  )
    return node.moduleSpecifier.text;
  if (
    ts.isCallExpression(node) &&
    node.expression.kind === ts.SyntaxKind.ImportKeyword &&
    node.arguments[0] !== undefined &&
    ts.isStringLiteralLike(node.arguments[0])
  )
    return node.arguments[0].text;
  return undefined;
}

/** `GbServer.listen(…)`: the only way to start one (its constructor is private). */
function isGbServerStart(node: ts.Node): boolean {
  if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return false;
  return (
    isIdentifier(node.expression.expression, "GbServer") && node.expression.name.text === "listen"
  );
}

function isIdentifier(node: ts.Node, name: string): boolean {
  return ts.isIdentifier(node) && node.text === name;
}

/** NodeNext specifiers name the emitted `.js`; the source beside it is `.ts`. */
function resolveRelative(
  from: string,
  specifier: string,
  readSource: ReadSource,
): string | undefined {
  const target = path.resolve(path.dirname(from), specifier);
  const candidates = [
    target.replace(/\.js$/, ".ts"),
    target.replace(/\.mjs$/, ".mts"),
    target.replace(/\.cjs$/, ".cts"),
    target,
    `${target}.ts`,
    path.join(target, "index.ts"),
  ];
  return candidates.find(
    (candidate) => SCRIPT_FILE.test(candidate) && readSource(candidate) !== undefined,
  );
}

/** A {@link ReadSource} over the file system that reads each file once. */
export function sourcesOnDisk(): ReadSource {
  const cache = new Map<string, string | undefined>();
  return (file) => {
    if (!cache.has(file)) cache.set(file, readIfFile(file));
    return cache.get(file);
  };
}

function readIfFile(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? error.code : undefined;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return undefined;
    throw error;
  }
}
