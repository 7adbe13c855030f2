/** Loads test/vectors/key-text-vectors.json: key texts, fingerprints and BIP-173's vectors. */
import { readFileSync } from "node:fs";
import type { KeyTextProblem } from "../../src/crypto/key-text.js";

export interface KeyVector {
  readonly what: string;
  readonly key: string;
  readonly text: string;
  readonly fingerprint: string;
}

export interface TextVector {
  readonly what: string;
  readonly text: string;
  readonly key?: string;
  readonly problem?: KeyTextProblem;
}

export interface KeyTextVectors {
  readonly keys: readonly KeyVector[];
  readonly texts: readonly TextVector[];
  readonly bip173: {
    readonly valid: readonly string[];
    readonly invalid: readonly { text: string; reason: string; problem: KeyTextProblem }[];
  };
}

// The file is ours and checked in; the tests would fail loudly on a wrong shape.
export const keyTextVectors: KeyTextVectors = JSON.parse(
  readFileSync(new URL("../vectors/key-text-vectors.json", import.meta.url), "utf8"),
);
