import { describe, expect, it } from "vitest";
import { allowsPlaintext } from "../../src/transfer/server/plaintext-policy.js";

describe("[H-POLICY] allowsPlaintext", () => {
  const LOOPBACK = ["127.0.0.1", "127.255.1.2", "::1", "::ffff:127.0.0.1", "::FFFF:127.9.9.9"];
  const OTHERS = [
    "10.0.0.1",
    "192.168.1.1",
    "128.0.0.1",
    "::2",
    "::ffff:10.0.0.1",
    "fe80::1",
    "127.0.0.1.evil",
    "",
    undefined,
  ];

  it("loopback (the default): 127/8, ::1 and ::ffff:127.0.0.0/104 only", () => {
    for (const address of LOOPBACK)
      expect(allowsPlaintext("loopback", address), address).toBe(true);
    for (const address of OTHERS) expect(allowsPlaintext("loopback", address), address).toBe(false);
  });

  it("anyone and never", () => {
    for (const address of [...LOOPBACK, ...OTHERS]) {
      expect(allowsPlaintext("anyone", address)).toBe(true);
      expect(allowsPlaintext("never", address)).toBe(false);
    }
  });
});
