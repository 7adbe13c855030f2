import { describe, expect, it } from "vitest";
import {
  BASE_PATTERN_NAMES,
  handshakePattern,
  type HandshakePattern,
} from "../../../src/crypto/noise/handshake-pattern.js";
import { patternNameOf, protocolName } from "../../../src/crypto/noise/protocol-name.js";
import { InternalError } from "../../../src/errors.js";
import { expectError, INTERNAL } from "./noise-helpers.js";

const ONE_WAY = ["N", "K", "X"];
const FUNDAMENTAL = ["NN", "KN", "NK", "KK", "NX", "KX", "XN", "IN", "XK", "IK", "XX", "IX"];

/** §9.3: after a `psk` token a party encrypts only once it has sent its own `e`. */
function pskValidityViolation(pattern: HandshakePattern): string | undefined {
  let pskSeen = false;
  const sentE = [false, false];
  for (const [index, tokens] of pattern.messages.entries()) {
    const sender = index % 2;
    for (const token of [...tokens, "payload"]) {
      if (token === "psk") pskSeen = true;
      else if (token === "e") sentE[sender] = true;
      else if ((token === "s" || token === "payload") && pskSeen && sentE[sender] !== true) {
        return `message ${index + 1}: ${token} before the sender's e`;
      }
    }
  }
  return undefined;
}

describe("handshake patterns (§7, §18.1)", () => {
  it("knows the 3 one-way, 12 fundamental and 23 deferred patterns", () => {
    expect(BASE_PATTERN_NAMES).toHaveLength(38);
    for (const name of [...ONE_WAY, ...FUNDAMENTAL]) expect(BASE_PATTERN_NAMES).toContain(name);
    expect(BASE_PATTERN_NAMES.filter((name) => name.includes("1"))).toHaveLength(23);
    for (const name of BASE_PATTERN_NAMES) {
      const pattern = handshakePattern(name);
      expect(pattern.oneWay).toBe(ONE_WAY.includes(name));
      expect(pattern.psk).toBe(false);
      expect(pattern.messages.length === 1).toBe(pattern.oneWay);
    }
  });

  it("reads the spec's notation: pre-messages, then alternating messages", () => {
    expect(handshakePattern("NN")).toMatchObject({
      initiatorPreMessage: [],
      responderPreMessage: [],
      messages: [["e"], ["e", "ee"]],
    });
    expect(handshakePattern("KK")).toMatchObject({
      initiatorPreMessage: ["s"],
      responderPreMessage: ["s"],
      messages: [
        ["e", "es", "ss"],
        ["e", "ee", "se"],
      ],
    });
    expect(handshakePattern("X1K1")).toMatchObject({
      initiatorPreMessage: [],
      responderPreMessage: ["s"],
      messages: [["e"], ["e", "ee", "es"], ["s"], ["se"]],
    });
  });

  it("[N-PSK-MOD] psk0 opens the first message, pskN closes the N-th", () => {
    expect(handshakePattern("NNpsk0")).toMatchObject({
      psk: true,
      pskCount: 1,
      messages: [
        ["psk", "e"],
        ["e", "ee"],
      ],
    });
    expect(handshakePattern("NNpsk2").messages).toEqual([["e"], ["e", "ee", "psk"]]);
    expect(handshakePattern("XXpsk3").messages).toEqual([
      ["e"],
      ["e", "ee", "s", "es"],
      ["s", "se", "psk"],
    ]);
    expect(handshakePattern("XXpsk0+psk3")).toMatchObject({
      pskCount: 2,
      messages: [
        ["psk", "e"],
        ["e", "ee", "s", "es"],
        ["s", "se", "psk"],
      ],
    });
    expect(handshakePattern("Npsk0")).toMatchObject({
      oneWay: true,
      messages: [["psk", "e", "es"]],
    });
    // The base pattern is not changed by deriving from it.
    expect(handshakePattern("NN").messages).toEqual([["e"], ["e", "ee"]]);
  });

  it("[N-PSK-VALID] every pattern with any one psk modifier, or all of them, satisfies §9.3", () => {
    let checked = 0;
    for (const name of BASE_PATTERN_NAMES) {
      const count = handshakePattern(name).messages.length;
      const positions = Array.from({ length: count + 1 }, (_, position) => position);
      const names = [
        ...positions.map((position) => `${name}psk${position}`),
        `${name}${positions.map((position) => `psk${position}`).join("+")}`,
      ];
      for (const modified of names) {
        expect(pskValidityViolation(handshakePattern(modified)), modified).toBeUndefined();
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(38 * 3);
    // The check itself does find a violation.
    expect(
      pskValidityViolation({ ...handshakePattern("NN"), psk: true, messages: [["psk", "s", "e"]] }),
    ).toBeDefined();
  });

  it.each([
    "",
    "nn",
    "NQ",
    "XXfallback",
    "NNpsk3",
    "NNpsk2+psk0",
    "NNpsk0+psk0",
    "NNpsk01",
    "NN+psk0",
    "Npsk2",
    "constructor",
    "__proto__",
  ])("refuses %j as INTERNAL", (name) => {
    expectError(() => handshakePattern(name), InternalError, INTERNAL);
  });
});

describe("[N-SUITE] protocol names (§8)", () => {
  it("joins a pattern name with 25519_AESGCM_SHA256 and takes it apart again", () => {
    expect(protocolName("NNpsk0")).toBe("Noise_NNpsk0_25519_AESGCM_SHA256");
    expect(patternNameOf("Noise_XXpsk0+psk3_25519_AESGCM_SHA256")).toBe("XXpsk0+psk3");
  });

  it.each([
    "Noise_NN_25519_ChaChaPoly_SHA256",
    "Noise_NN_448_AESGCM_SHA256",
    "Noise_NN_25519_AESGCM_SHA512",
    "Noise__25519_AESGCM_SHA256",
    "Noise_N N_25519_AESGCM_SHA256",
    "NN",
  ])("refuses %j as INTERNAL", (name) => {
    expectError(() => patternNameOf(name), InternalError, INTERNAL);
  });
});
