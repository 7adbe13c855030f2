import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SOFTWARE_VERSION } from "../src/transfer/software-name.js";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const readme = readFileSync(new URL("README.md", root), "utf8");

describe("package and README", () => {
  it("reports the package version", () => {
    expect(SOFTWARE_VERSION).toBe(pkg.version);
  });

  it("supports Node 20 and later", () => {
    expect(pkg.engines.node).toBe(">=20");
  });

  it("names every dependency in the README with a reason", () => {
    for (const name of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]) {
      expect(readme, name).toMatch(new RegExp(`\`${name.replace("/", "\\/")}\``));
    }
  });

  it("ships the three programs", () => {
    expect(Object.keys(pkg.bin).sort()).toEqual(["gb-client", "gb-key", "gb-server"]);
    for (const file of Object.values(pkg.bin))
      expect(existsSync(new URL(file, root)), file).toBe(true);
  });

  it("bundles the entry point each program's shim loads", () => {
    for (const [name, file] of Object.entries(pkg.bin)) {
      const shim = readFileSync(new URL(file, root), "utf8");
      expect(shim.startsWith("#!/usr/bin/env node\n"), name).toBe(true);
      const bundle = /require\("\.\.\/dist\/cli\/([\w-]+-main)\.cjs"\)\.main\(\)/.exec(shim);
      expect(bundle, `${file} loads dist/cli/*-main.cjs`).not.toBeNull();
      const entry = bundle![1]!;
      // The build bundles dist/cli/NAME.js from src/cli/NAME.ts into dist/cli/NAME.cjs.
      expect(pkg.scripts["bundle"], name).toContain(`dist/cli/${entry}.js `);
      expect(existsSync(new URL(`src/cli/${entry}.ts`, root)), entry).toBe(true);
    }
  });

  it("documents every program in the README", () => {
    for (const name of Object.keys(pkg.bin)) expect(readme).toContain(`### ${name} options`);
  });

  it("uses only sample files that exist in its examples", () => {
    const samples = new Set(readme.match(/samples\/[\w.-]+/g) ?? []);
    expect(samples.size).toBeGreaterThan(0);
    for (const sample of samples) expect(existsSync(new URL(sample, root)), sample).toBe(true);
  });
});
