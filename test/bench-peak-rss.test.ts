import { describe, expect, it } from "vitest";
import { peakRssKiB } from "../bench/peak-rss.js";

const STATUS = [
  "Name:\tnode",
  "VmPeak:\t 1234567 kB",
  "VmHWM:\t   61234 kB",
  "VmRSS:\t   50000 kB",
  "",
].join("\n");

describe("peakRssKiB", () => {
  it("reads VmHWM, the peak of the program's own memory, from /proc/self/status", () => {
    expect(peakRssKiB(STATUS)).toBe(61_234);
  });

  it("falls back to maxRSS where there is no VmHWM", () => {
    expect(peakRssKiB("Name:\tnode\n")).toBe(process.resourceUsage().maxRSS);
    expect(peakRssKiB(undefined)).toBe(process.resourceUsage().maxRSS);
  });

  it("on this machine: a positive figure no larger than maxRSS (which may count a parent's memory)", () => {
    const peak = peakRssKiB();
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(process.resourceUsage().maxRSS);
  });
});
