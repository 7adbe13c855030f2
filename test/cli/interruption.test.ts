import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { INTERRUPTED, Interruption } from "../../src/cli/interruption.js";
import { fakeIo, testEnv } from "./fake-io.js";

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

  it("keeps nothing of a race that is over: 10,000 races leave one listener, no waiter", async () => {
    const controller = new AbortController();
    const interruption = new Interruption(controller.signal);
    for (let index = 0; index < 10_000; index++) {
      await interruption.race(Promise.resolve(index));
      await interruption.race(Promise.reject(new Error(`failed ${index}`))).catch(() => undefined);
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    expect(interruption.waiting).toBe(0);
  });

  it("interrupts every race still waiting, and only those", async () => {
    const controller = new AbortController();
    const interruption = new Interruption(controller.signal);
    const never = new Promise<number>(() => undefined);
    const waiting = [interruption.race(never), interruption.race(never)];
    await expect(interruption.race(Promise.resolve(1))).resolves.toBe(1);
    expect(interruption.waiting).toBe(2);
    controller.abort();
    await expect(Promise.all(waiting)).resolves.toEqual([INTERRUPTED, INTERRUPTED]);
    expect(interruption.waiting).toBe(0);
  });

  it("a failure that is not an Error reaches the caller as one", async () => {
    const interruption = new Interruption(new AbortController().signal);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const failure = await interruption.race(Promise.reject("text")).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ message: "text" });
  });

  it("stops listening to the signal once released: one signal may serve run after run", async () => {
    const controller = new AbortController();
    for (let run = 0; run < 20; run++) {
      const interruption = new Interruption(controller.signal);
      await interruption.race(Promise.resolve(run));
      interruption.release();
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("gb-client runs given one signal after another leave no listener on it", async () => {
    const controller = new AbortController();
    for (let run = 0; run < 3; run++) {
      const fake = fakeIo(await testEnv());
      expect(await runClient([], fake.io, controller.signal)).toBe(ExitCode.USAGE);
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
