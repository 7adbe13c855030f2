import { createHash } from "node:crypto";

/** The SHA-256 of `data`, as lowercase hex. */
export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
