/**
 * gb-client's young generation is capped while it sends a tree
 * (src/cli/v8-tuning.ts): V8 would grow it to 32 MiB. Run in a process of its own, as
 * the settings are the whole process's; through the built module, as gb-client runs it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

const MODULE = new URL("../../dist/cli/v8-tuning.js", import.meta.url).href;
const CAP = 8 * 1024 * 1024;

/**
 * Objects that live a while, made a few at a time between turns of the event loop (as a
 * tree's files until their receipts): V8 grows its young generation while they survive.
 * Prints the largest size the young generation reached.
 */
const PROBE = `
const { capYoungGeneration, youngGenerationBytes } = await import(process.argv[1]);
if (process.argv[2] === "cap") capYoungGeneration(${CAP});
const ring = new Array(60000);
let largest = youngGenerationBytes();
for (let turn = 0; turn < 500; turn++) {
  for (let k = 0; k < 2000; k++) {
    const i = (turn * 2000 + k) % ring.length;
    ring[i] = { turn, i, name: "f" + i, list: [i, turn] };
  }
  await new Promise((resolve) => setImmediate(resolve));
  largest = Math.max(largest, youngGenerationBytes());
}
console.log(largest);
`;

async function largestYoungGeneration(mode: "cap" | "none"): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    // V8's maximum set, as a machine with little memory would otherwise have a smaller one.
    ["--max-semi-space-size=16", "--input-type=module", "-e", PROBE, MODULE, mode],
    { timeout: 30_000 },
  );
  return Number(stdout.trim());
}

describe("gb-client's young generation while it sends a tree", () => {
  it("stops growing at 8 MiB once capped; V8 alone grows it past that", async () => {
    const [capped, free] = await Promise.all([
      largestYoungGeneration("cap"),
      largestYoungGeneration("none"),
    ]);
    expect(capped).toBe(CAP);
    // Without the cap the same objects grow it further: the test can tell the two apart.
    expect(free).toBeGreaterThan(CAP);
  }, 60_000);
});
