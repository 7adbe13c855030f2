/**
 * [RES-BUSY] The resume state's keys, claimed by one item at a time: a key asked for
 * again takes it over from an item still arriving, but not from one that arrived whole
 * and is being stored (that ask waits for it to be stored, and finds nothing to resume).
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ResumeState } from "../../src/transfer/server/resume-state.js";
import { TempDirs } from "../support/temp-dirs.js";

const temp = new TempDirs();
const states: ResumeState[] = [];
afterEach(async () => {
  for (const state of states.splice(0)) state.close();
  await temp.removeAll();
});

const MiB = 1024 * 1024;
const SETTINGS = { maxBytes: 64 * MiB, expiryMs: 60_000 };

async function newState(): Promise<{ state: ResumeState; saveDir: string }> {
  const saveDir = await temp.make("gb-resume-state-");
  const state = await ResumeState.open(saveDir, SETTINGS);
  states.push(state);
  return { state, saveDir };
}

describe("ResumeState", () => {
  it("[RES-BUSY] a key asked for again while its item is still arriving: that item's connection is ended, and the ask goes on from its partial", async () => {
    const { state } = await newState();
    const key = "a".repeat(64);
    const data = randomBytes(2 * MiB);
    const endFirst = vi.fn();
    const first = await state.claim(key, data.length, endFirst);
    expect(first?.offset).toBe(0);
    const partial = await first?.open("big.bin", undefined, false);
    await partial?.write([data.subarray(0, MiB)]);
    const second = state.claim(key, data.length, () => undefined);
    expect(endFirst).toHaveBeenCalledTimes(1);
    // The first connection ends: what arrived is kept, and the second ask goes on from it.
    await partial?.keep();
    expect((await second)?.offset).toBe(MiB);
  });

  it("[RES-BUSY] an item that arrived whole and is being stored is not ended: the ask waits for it, then finds nothing kept", async () => {
    const { state, saveDir } = await newState();
    const key = "b".repeat(64);
    const data = randomBytes(2 * MiB);
    const endFirst = vi.fn();
    const first = await state.claim(key, data.length, endFirst);
    const partial = await first?.open("big.bin", undefined, false);
    await partial?.write([data]);
    const storing = partial?.commit() ?? Promise.reject(new Error("no partial"));
    const second = state.claim(key, data.length, () => undefined);
    expect(endFirst).not.toHaveBeenCalled();
    // The ask waits for the file to be stored: it is answered after.
    const answered = await Promise.race([storing.then(() => "stored"), second.then(() => "asked")]);
    expect(answered).toBe("stored");
    expect(await storing).toBe("big.bin");
    // Stored whole, under its name; the second ask starts from nothing.
    expect(await readFile(path.join(saveDir, "big.bin"))).toEqual(data);
    expect((await second)?.offset).toBe(0);
  });
});
