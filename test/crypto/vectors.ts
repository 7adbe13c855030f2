/** Loads test/vectors/crypto-vectors.json, the known-answer vectors of the crypto layer. */
import { readFileSync } from "node:fs";

export interface CryptoVectors {
  masterKey: string;
  itemSalt: string;
  keyId: string;
  itemKeys: { payloadKey: string; baseNonce: string; metaKey: string; receiptKey: string };
  chunkNonces: { index: number; last: boolean; nonce: string }[];
  shortPayload: { plaintextUtf8: string; chunks: { last: boolean; sealedHex: string }[] };
  longPayload: {
    plaintextBytes: number;
    plaintextModulus: number;
    chunks: { last: boolean; plaintextBytes: number; sealedBytes: number; sealedSha256: string }[];
  };
  sealOnce: { key: "metaKey"; plaintextUtf8: string; sealedHex: string };
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
