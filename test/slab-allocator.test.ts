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

  it("a slab whose every slice was released is used again, never before", () => {
    const slabs = new SlabAllocator(8, 4);
    const a = slabs.take(4);
    const b = slabs.take(4);
    // The slab is full: the next slice comes from a new one while a and b are in use.
    const c = slabs.take(4);
    expect(c.buffer).not.toBe(a.buffer);
    slabs.release(a);
    const d = slabs.take(4);
    expect(d.buffer).toBe(c.buffer);
    // b still in use: a's slab is not reused yet.
    const e = slabs.take(4);
    expect(e.buffer).not.toBe(a.buffer);
    slabs.release(b);
    // The current slab is filled first; then a's, free again, comes back.
    expect(slabs.take(4).buffer).toBe(e.buffer);
    expect(slabs.take(4).buffer).toBe(a.buffer);
  });

  it("the current slab starts over once everything taken from it is released", () => {
    const slabs = new SlabAllocator(16);
    const a = slabs.take(4);
    const b = slabs.take(4);
    slabs.release(a);
    slabs.release(b);
    const c = slabs.take(4);
    expect(c.buffer).toBe(a.buffer);
    expect(c.byteOffset).toBe(a.byteOffset);
  });

  it("a retained slice needs one more release before its memory is reused", () => {
    const slabs = new SlabAllocator(4, 4);
    const a = slabs.take(4);
    slabs.retain(a);
    slabs.release(a);
    const b = slabs.take(4);
    expect(b.buffer).not.toBe(a.buffer);
    slabs.release(a);
    expect(slabs.take(4).buffer).toBe(a.buffer);
  });

  it("releasing what it did not give, or more times than taken, changes nothing", () => {
    const slabs = new SlabAllocator(4, 4);
    const a = slabs.take(4);
    slabs.release(Buffer.alloc(4));
    slabs.release(a);
    slabs.release(a);
    const b = slabs.take(4);
    expect(b.buffer).toBe(a.buffer);
    const c = slabs.take(4);
    expect(c.buffer).not.toBe(a.buffer);
  });

  it("keeps at most the number of free slabs it was given", () => {
    const slabs = new SlabAllocator(4, 1);
    const [first, second, third] = [slabs.take(4), slabs.take(4), slabs.take(4)];
    slabs.take(4);
    for (const slice of [first, second, third]) if (slice !== undefined) slabs.release(slice);
    // The first slab released was kept; the other two were let go.
    expect(slabs.take(4).buffer).toBe(first?.buffer);
    const next = slabs.take(4).buffer;
    expect(next).not.toBe(second?.buffer);
    expect(next).not.toBe(third?.buffer);
  });

  it("a slice released twice counts once: another slice of its slab stays in use", () => {
    const slabs = new SlabAllocator(8, 4);
    const a = slabs.take(4);
    const b = slabs.take(4);
    slabs.take(4);
    slabs.release(a);
    slabs.release(a);
    // b is still in use: its slab is not handed out again.
    slabs.take(4);
    expect(slabs.take(4).buffer).not.toBe(b.buffer);
    slabs.release(b);
    slabs.take(4);
    expect(slabs.take(4).buffer).toBe(b.buffer);
  });

  it("an empty slice keeps a place of its own: given back whole, the next slice starts after it", () => {
    const slabs = new SlabAllocator(16, 4);
    const empty = slabs.take(1);
    slabs.giveBack(1);
    const next = slabs.take(4);
    expect(next.byteOffset).toBeGreaterThan(empty.byteOffset);
    slabs.release(next);
    // The empty slice is still counted: the slab does not start over under it.
    expect(slabs.take(4).byteOffset).toBeGreaterThan(next.byteOffset);
  });
});
