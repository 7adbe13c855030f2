/**
 * gb-client's choice of mode [K-ENCRYPT-DEFAULT], what counts as loopback [K-HOST], and
 * the --host option of both programs, as pure functions. The choice made against real
 * servers (IPv6, host names, a key given) is in client-host.integration.test.ts, and
 * across a network boundary in test/e2e/netns.test.ts.
 */
import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { chooseEncryption, type EncryptionInputs } from "../../src/cli/client-encryption.js";
import { isLoopbackAddress } from "../../src/cli/client-host.js";
import { hintFor } from "../../src/cli/hints.js";
import { hostOption, hostPort } from "../../src/cli/host-option.js";
import { ErrorCode, NetworkError } from "../../src/errors.js";

describe("[K-ENCRYPT-DEFAULT] chooseEncryption", () => {
  const nothing: EncryptionInputs = {
    encrypt: false,
    plaintext: false,
    keyGiven: false,
    loopback: true,
  };

  it.each<[Partial<EncryptionInputs>, boolean, string]>([
    [{}, false, "loopback"],
    [{ loopback: false }, true, "off-loopback"],
    [{ keyGiven: true }, true, "key-given"],
    [{ keyGiven: true, loopback: false }, true, "key-given"],
    [{ encrypt: true }, true, "asked"],
    [{ encrypt: true, loopback: false }, true, "asked"],
    [{ plaintext: true }, false, "plaintext-asked"],
    [{ plaintext: true, loopback: false }, false, "plaintext-asked"],
    [{ plaintext: true, keyGiven: true }, false, "plaintext-asked"],
    [{ plaintext: true, keyGiven: true, loopback: false }, false, "plaintext-asked"],
  ])("%j: encrypt %s (%s)", (inputs, encrypt, reason) => {
    expect(chooseEncryption({ ...nothing, ...inputs })).toEqual({ encrypt, reason });
  });

  it("encrypts in every case but two: nothing asked, no key, loopback; or --plaintext", () => {
    let plain = 0;
    for (const encrypt of [false, true]) {
      for (const plaintext of encrypt ? [false] : [false, true]) {
        for (const keyGiven of [false, true]) {
          for (const loopback of [false, true]) {
            const choice = chooseEncryption({ encrypt, plaintext, keyGiven, loopback });
            const expected = !plaintext && !(loopback && !keyGiven && !encrypt);
            expect(choice.encrypt, JSON.stringify({ encrypt, plaintext, keyGiven, loopback })).toBe(
              expected,
            );
            if (!choice.encrypt) plain++;
          }
        }
      }
    }
    // 12 combinations (--encrypt with --plaintext is a usage error): 4 with --plaintext,
    // 1 without.
    expect(plain).toBe(5);
  });
});

describe("[K-HOST] isLoopbackAddress", () => {
  it.each([
    "127.0.0.1",
    "127.0.0.2",
    "127.255.255.255",
    "::1",
    "0:0:0:0:0:0:0:1",
    "0000:0000:0000:0000:0000:0000:0000:0001",
    "::ffff:127.0.0.1",
    "::FFFF:127.1.2.3",
    "::ffff:7f00:1",
  ])("%s is loopback", (address) => {
    expect(isLoopbackAddress(address)).toBe(true);
  });

  it.each([
    "128.0.0.1",
    "126.255.255.255",
    "198.18.0.1",
    "10.0.0.1",
    "0.0.0.0",
    "::",
    "::2",
    "2001:db8::1",
    "fe80::1",
    "::ffff:10.0.0.1",
    "::ffff:128.0.0.1",
    // IPv4-compatible (deprecated), not mapped: not what the server's policy counts.
    "::127.0.0.1",
    "localhost",
    "",
  ])("%j is not loopback", (address) => {
    expect(isLoopbackAddress(address)).toBe(false);
  });
});

describe("--host (both programs)", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["::", "::"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["[::]", "::"],
    ["2001:db8::1", "2001:db8::1"],
    ["[2001:db8::1]", "2001:db8::1"],
    ["localhost", "localhost"],
    ["gb.example", "gb.example"],
  ])("%j is taken as %j", (given, taken) => {
    expect(hostOption(given)).toBe(taken);
  });

  it.each(["", "[]", "[127.0.0.1]", "[localhost]", "gb.example:6688", "[::1]:6688", "1.2.3.4:5"])(
    "%j is a usage error",
    (given) => {
      expect(() => hostOption(given)).toThrow(InvalidArgumentError);
    },
  );

  it("writes an IPv6 address in brackets beside its port", () => {
    expect(hostPort("::1", 6688)).toBe("[::1]:6688");
    expect(hostPort("2001:db8::1", 1)).toBe("[2001:db8::1]:1");
    expect(hostPort("127.0.0.1", 6688)).toBe("127.0.0.1:6688");
    expect(hostPort("gb.example", 6688)).toBe("gb.example:6688");
  });
});

describe("gb-client's hints for a host it cannot reach", () => {
  /** A CONNECT_FAILED as the client makes it: the socket's or the look-up's error as cause. */
  function connectFailed(code: string, address?: string): NetworkError {
    const cause = Object.assign(new Error(code), {
      code,
      ...(address === undefined ? {} : { address }),
    });
    return new NetworkError(ErrorCode.CONNECT_FAILED, "cannot connect", { cause });
  }

  it("nothing listening on this machine: start gb-server", () => {
    expect(hintFor(connectFailed("ECONNREFUSED", "127.0.0.1"), "gb-client")).toMatch(
      /^is gb-server running\? Start it with: npx gb-server$/,
    );
  });

  it("nothing listening on another machine: start it on an address others reach", () => {
    for (const address of ["198.18.0.1", "2001:db8::1"]) {
      expect(hintFor(connectFailed("ECONNREFUSED", address), "gb-client")).toMatch(
        /--host 0\.0\.0\.0/,
      );
    }
  });

  it("[K-HOST] a name that does not resolve: check --host", () => {
    for (const code of ["ENOTFOUND", "EAI_NONAME", "EAI_AGAIN"]) {
      expect(hintFor(connectFailed(code), "gb-client")).toMatch(/--host/);
    }
  });
});
