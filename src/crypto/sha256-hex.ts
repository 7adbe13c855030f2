import * as nodeCrypto from "node:crypto";

/** Node's one-shot `crypto.hash` (Node 20.12 and later): no Hash object to build. */
type OneShotHash = (algorithm: string, data: Uint8Array | string, outputEncoding: "hex") => string;
const oneShotHash = (nodeCrypto as { hash?: OneShotHash }).hash;

/**
 * SHA-256 of `data` (a string is hashed as UTF-8) as 64 lower-case hex digits. For a
 * whole message in memory (a dictionary), where building a streaming Hash object costs
 * more than the hashing.
 */
export function sha256Hex(data: Uint8Array | string): string {
  if (oneShotHash !== undefined) return oneShotHash("sha256", data, "hex");
  const hash = nodeCrypto.createHash("sha256");
  if (typeof data === "string") hash.update(data, "utf8");
  else hash.update(data);
  return hash.digest("hex");
}
