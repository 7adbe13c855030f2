import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { INTERRUPTED, Interruption } from "../../src/cli/interruption.js";

describe("Interruption.race", () => {
  it("gives the work's value, or its failure, when the user did not interrupt", async () => {
    const interruption = new Interruption(new AbortController().signal);
    await expect(interruption.race(Promise.resolve(7))).resolves.toBe(7);
    const failure = new Error("failed");
    await expect(interruption.race(Promise.reject(failure))).rejects.toBe(failure);
  });

  it("gives INTERRUPTED once the user interrupts, and at once after", async () => {
    const controller = new AbortController();
    const interruption = new Interruption(controller.signal);
    const never = new Promise<number>(() => undefined);
    const racing = interruption.race(never);
    controller.abort();
    await expect(racing).resolves.toBe(INTERRUPTED);
    await expect(interruption.race(never)).resolves.toBe(INTERRUPTED);
    expect(interruption.interrupted).toBe(true);
  });

  it("keeps nothing of a race that is over: 10,000 races leave no listener behind", async () => {
    const controller = new AbortController();
    const interruption = new Interruption(controller.signal);
    for (let index = 0; index < 10_000; index++) {
      await interruption.race(Promise.resolve(index));
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
