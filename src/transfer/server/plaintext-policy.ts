import { isIPv4 } from "node:net";

/**
 * Who may connect in the clear [H-POLICY]: "loopback", only programs on this machine
 * (the default); "anyone", every peer; "never", nobody: every connection is a Noise
 * session.
 */
export type PlaintextPolicy = "loopback" | "anyone" | "never";

export const PLAINTEXT_POLICIES: readonly PlaintextPolicy[] = ["loopback", "anyone", "never"];

/** The first byte of every IPv4 loopback address, 127.0.0.0/8. */
const IPV4_LOOPBACK_FIRST_BYTE = "127";
const IPV6_LOOPBACK = "::1";
/** How Node writes an IPv4 peer on a dual-stack socket: ::ffff:a.b.c.d. */
const IPV4_MAPPED_PREFIX = "::ffff:";

/**
 * [H-POLICY] Whether `policy` lets the peer at `remoteAddress` (as Node reports it)
 * connect in the clear: loopback is 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
 */
export function allowsPlaintext(
  policy: PlaintextPolicy,
  remoteAddress: string | undefined,
): boolean {
  switch (policy) {
    case "anyone":
      return true;
    case "never":
      return false;
    case "loopback":
      return remoteAddress !== undefined && isLoopback(remoteAddress);
  }
}

function isLoopback(address: string): boolean {
  if (address === IPV6_LOOPBACK) return true;
  const v4 = address.toLowerCase().startsWith(IPV4_MAPPED_PREFIX)
    ? address.slice(IPV4_MAPPED_PREFIX.length)
    : address;
  return isIPv4(v4) && v4.split(".")[0] === IPV4_LOOPBACK_FIRST_BYTE;
}
