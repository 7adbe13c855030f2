import { InvalidArgumentError } from "commander";
import { isIP, isIPv6 } from "node:net";

/**
 * Commander parser for `--host`, of both programs: an IPv4 or IPv6 address (an IPv6
 * address also in brackets, as in URLs: `[::1]`), or a host name. The port has its own
 * option, so `A:6688` or `[::1]:6688` is a usage error here rather than a name that
 * cannot be found later.
 */
export function hostOption(value: string): string {
  if (value.startsWith("[") && value.endsWith("]")) {
    const inner = value.slice(1, -1);
    if (!isIPv6(inner)) throw new InvalidArgumentError("expected an IPv6 address inside [ ].");
    return inner;
  }
  if (value === "") throw new InvalidArgumentError("expected an address or a host name.");
  if (isIP(value) === 0 && value.includes(":")) {
    throw new InvalidArgumentError(
      "expected an address or a host name, without a port (the port goes to --port).",
    );
  }
  return value;
}

/** `host:port` as a person reads it: an IPv6 address in brackets (`[::1]:6688`). */
export function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
}
