import { defineConfig } from "vitest/config";

/**
 * Test files that start child processes or a real server, or wait on real sockets
 * and timers: they run only in the full suite (`npm test`). Every other test file is a
 * unit or property test and runs in the fast loop too (`npm run test:fast`), so a new
 * test lands in the right suite by where it lives or what it is called.
 * test/meta/fast-suite.integration.test.ts fails if a fast test spawns or serves.
 */
export const INTEGRATION_TESTS = [
  "test/e2e/**/*.test.ts",
  "test/integration/**/*.test.ts",
  "test/client-robustness/**/*.test.ts",
  "test/**/*.integration.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "fast",
          include: ["test/**/*.test.ts"],
          exclude: INTEGRATION_TESTS,
          // Files share each worker's loaded modules instead of loading them afresh:
          // this halves the suite's CPU time. A unit test restores whatever it patches.
          isolate: false,
        },
      },
      { extends: true, test: { name: "integration", include: INTEGRATION_TESTS } },
    ],
  },
});
