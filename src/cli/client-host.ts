import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { ErrorCode, NetworkError } from "../errors.js";

/**
 * [K-HOST] The loopback addresses, in any spelling (`0:0:0:0:0:0:0:1`, `::ffff:7f00:1`):
 * 127.0.0.0/8, ::1 and the IPv4-mapped ::ffff:127.0.0.0/104, as the server's policy
 * counts them [H-POLICY].
 */
const LOOPBACK = new BlockList();
const IPV4_LOOPBACK_NETWORK = "127.0.0.0";
const IPV4_LOOPBACK_PREFIX_BITS = 8;
const IPV6_LOOPBACK = "::1";
const IPV4_MAPPED_LOOPBACK_NETWORK = "::ffff:127.0.0.0";
/** 96 bits of the ::ffff:0:0/96 mapping, then the 8 of 127.0.0.0/8. */
const IPV4_MAPPED_LOOPBACK_PREFIX_BITS = 104;
LOOPBACK.addSubnet(IPV4_LOOPBACK_NETWORK, IPV4_LOOPBACK_PREFIX_BITS, "ipv4");
LOOPBACK.addAddress(IPV6_LOOPBACK, "ipv6");
LOOPBACK.addSubnet(IPV4_MAPPED_LOOPBACK_NETWORK, IPV4_MAPPED_LOOPBACK_PREFIX_BITS, "ipv6");

/** Where gb-client connects: the host as the user named it, and what it resolved to. */
export interface ClientHost {
  /** The host as given (an IPv6 address without its brackets). */
  readonly name: string;
  /**
   * The addresses to connect to, in the resolver's order, without repeats: the very
   * addresses whose loopback status was checked, so the choice of encryption and the
   * connection cannot disagree (a second look-up could answer differently).
   */
  readonly addresses: readonly string[];
  /** Every address is a loopback address [K-HOST]. */
  readonly loopback: boolean;
}

/** [K-HOST] Whether `address` (an IP address in any spelling) is a loopback address. */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return LOOPBACK.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * [K-HOST] Resolves `host` once: an IP address stands for itself; a name is looked up
 * (every address it has, IPv4 and IPv6), and counts as loopback only when every address
 * it resolves to is loopback.
 * @throws {NetworkError} CONNECT_FAILED when the name does not resolve (the look-up's
 *   error, with its `code` such as ENOTFOUND, is the cause)
 */
export async function resolveClientHost(host: string): Promise<ClientHost> {
  if (isIP(host) !== 0) return { name: host, addresses: [host], loopback: isLoopbackAddress(host) };
  let found: readonly { readonly address: string }[];
  try {
    found = await lookup(host, { all: true });
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : String(error);
    throw new NetworkError(ErrorCode.CONNECT_FAILED, `cannot resolve host ${host}: ${reason}`, {
      cause: error,
    });
  }
  const addresses = [...new Set(found.map((each) => each.address))];
  if (addresses.length === 0) {
    throw new NetworkError(ErrorCode.CONNECT_FAILED, `host ${host} has no address`);
  }
  return { name: host, addresses, loopback: addresses.every(isLoopbackAddress) };
}
