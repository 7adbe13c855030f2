import * as nodeCrypto from "node:crypto";

/** Node's one-shot `crypto.hash` (Node 20.12 and later): no Hash object to build. */
type OneShotHash = (algorithm: string, data: Uint8Array, outputEncoding: "hex") => string;
const oneShotHash = (nodeCrypto as { hash?: OneShotHash }).hash;

/**
 * SHA-256 of `data` as 64 lower-case hex digits. For a whole message in memory (a
 * dictionary), where building a streaming Hash object costs more than the hashing.
 */
export function sha256Hex(data: Uint8Array): string {
  return oneShotHash === undefined
    ? nodeCrypto.createHash("sha256").update(data).digest("hex")
    : oneShotHash("sha256", data, "hex");
}
