import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { spawn } from "../../src/cli/deferred-child-process.js";

describe("deferred child_process", () => {
  it("spawns like child_process.spawn once called", async () => {
    const child = spawn(process.execPath, ["-e", "process.exit(7)"], { stdio: "ignore" });
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(7);
  });
});
