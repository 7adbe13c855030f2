import { describe, expect, it } from "vitest";
import { SlabAllocator } from "../src/slab-allocator.js";

describe("SlabAllocator", () => {
  it("hands out slices of one slab that never overlap, then a new slab", () => {
    const slabs = new SlabAllocator(10);
    const a = slabs.take(4);
    const b = slabs.take(4);
    expect(a.buffer).toBe(b.buffer);
    a.fill(1);
    b.fill(2);
    expect([...a]).toEqual([1, 1, 1, 1]);
    const c = slabs.take(4);
    expect(c.buffer).not.toBe(a.buffer);
  });

  it("a request larger than a slab gets a slab of its own size", () => {
    const big = new SlabAllocator(10).take(25);
    expect(big.length).toBe(25);
  });

  it("what is given back goes to the next slice", () => {
    const slabs = new SlabAllocator(10);
    const a = slabs.take(8);
    slabs.giveBack(6);
    const b = slabs.take(8);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + 2);
  });
});
