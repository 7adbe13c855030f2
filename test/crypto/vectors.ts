/** Loads test/vectors/crypto-vectors.json: the passphrase key derivation's known answer. */
import { readFileSync } from "node:fs";

export interface CryptoVectors {
  passphrase: {
    passphraseUtf8: string;
    saltHex: string;
    log2N: number;
    r: number;
    p: number;
    keyBytes: number;
    keyHex: string;
  };
}

// The file is ours and checked in; the tests would fail loudly on a wrong shape.
export const vectors: CryptoVectors = JSON.parse(
  readFileSync(new URL("../vectors/crypto-vectors.json", import.meta.url), "utf8"),
);

export const hex = (text: string): Buffer => Buffer.from(text, "hex");
