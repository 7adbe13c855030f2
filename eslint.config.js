// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "dist-bench/", "node_modules/", "coverage/", "bin/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Escaping control characters for terminals and file names means matching them.
      "no-control-regex": "off",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // Library code never exits the process; only the CLI layer may.
      "no-restricted-properties": [
        "error",
        { object: "process", property: "exit", message: "Only src/cli may exit the process." },
      ],
    },
  },
  {
    // Library code names no command-line flag: hints that do live in src/cli/hints.ts.
    files: ["src/**"],
    ignores: ["src/cli/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "Literal[value=/(^|\\s)--[a-z]/]",
          message: "Library code names no CLI flag; put the hint in src/cli/hints.ts.",
        },
        {
          selector: "TemplateElement[value.raw=/(^|\\s)--[a-z]/]",
          message: "Library code names no CLI flag; put the hint in src/cli/hints.ts.",
        },
      ],
    },
  },
  {
    files: ["src/cli/**", "test/**", "bench/**", "scripts/**"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    files: ["test/**", "bench/**", "scripts/**"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-floating-promises": "off",
      "@typescript-eslint/no-unnecessary-condition": "off",
      "@typescript-eslint/require-await": "off",
    },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
);
