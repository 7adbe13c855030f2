/**
 * Two test hosts on one machine: a pair of Linux network namespaces joined by a veth
 * pair, so that a server and a client talk across a real network boundary (their own
 * IPv4 and IPv6 addresses, no loopback between them).
 *
 * Addresses come only from the benchmarking ranges 198.18.0.0/15 and 2001:db8::/32. Each
 * pair's addresses exist only inside its own two namespaces, so pairs made at the same
 * time cannot collide. Creating namespaces needs root and iproute2 (`ip`):
 * {@link netnsUnavailable} says why they cannot be made; the tests skip without root and
 * fail with that reason as root (CI runs as root and installs iproute2).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";

/** Where each end of the pair lives and how to reach it. */
export interface NetnsHost {
  /** The namespace's name (for `ip netns exec`). */
  readonly namespace: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

const IPV4_SERVER = "198.18.0.1";
const IPV4_CLIENT = "198.18.0.2";
const IPV4_PREFIX = 30;
const IPV6_SERVER = "2001:db8::1";
const IPV6_CLIENT = "2001:db8::2";
const IPV6_PREFIX = 64;
/** Linux interface names are at most 15 bytes. */
const MAX_INTERFACE_NAME = 15;

let made = 0;
const live = new Set<NetnsPair>();
let exitHook = false;

/** Runs `ip` with `args`; throws with its stderr when it fails. */
function ip(args: readonly string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) {
    throw new Error(`ip ${args.join(" ")} failed: ${result.stderr.trim()}`);
  }
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== "linux") return "network namespaces are Linux only";
  if (process.getuid?.() !== 0) return "creating network namespaces needs root";
  const probe = spawnSync("ip", ["-V"], { encoding: "utf8", timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) return "iproute2 (`ip`) is not installed";
  return undefined;
}

export class NetnsPair {
  readonly server: NetnsHost;
  readonly client: NetnsHost;
  readonly #veth: string;
  #removed = false;

  private constructor(server: NetnsHost, client: NetnsHost, veth: string) {
    this.server = server;
    this.client = client;
    this.#veth = veth;
  }

  /**
   * Makes two namespaces named after this process (unique on the machine), joined by a
   * veth pair, each with loopback up and one IPv4 and one IPv6 address.
   * @throws when a step fails; whatever was made is removed first.
   */
  static create(): NetnsPair {
    const id = `${process.pid}x${++made}`;
    const serverNs = `gbtest-${id}-s`;
    const clientNs = `gbtest-${id}-c`;
    const veth = `gbv${id}a`.slice(0, MAX_INTERFACE_NAME);
    const peer = `gbv${id}b`.slice(0, MAX_INTERFACE_NAME);
    const pair = new NetnsPair(
      { namespace: serverNs, ipv4: IPV4_SERVER, ipv6: IPV6_SERVER },
      { namespace: clientNs, ipv4: IPV4_CLIENT, ipv6: IPV6_CLIENT },
      veth,
    );
    live.add(pair);
    if (!exitHook) {
      exitHook = true;
      // A test run that dies still removes its namespaces.
      process.on("exit", () => {
        for (const left of live) left.remove();
      });
    }
    try {
      ip(["netns", "add", serverNs]);
      ip(["netns", "add", clientNs]);
      ip(["link", "add", veth, "type", "veth", "peer", "name", peer]);
      ip(["link", "set", veth, "netns", serverNs]);
      ip(["link", "set", peer, "netns", clientNs]);
      for (const [ns, dev, v4, v6] of [
        [serverNs, veth, IPV4_SERVER, IPV6_SERVER],
        [clientNs, peer, IPV4_CLIENT, IPV6_CLIENT],
      ] as const) {
        ip(["-n", ns, "link", "set", "lo", "up"]);
        ip(["-n", ns, "addr", "add", `${v4}/${IPV4_PREFIX}`, "dev", dev]);
        // nodad: the address is usable at once instead of after duplicate detection.
        ip(["-n", ns, "-6", "addr", "add", `${v6}/${IPV6_PREFIX}`, "dev", dev, "nodad"]);
        ip(["-n", ns, "link", "set", dev, "up"]);
      }
    } catch (error) {
      pair.remove();
      throw error;
    }
    return pair;
  }

  /** Starts `command` inside `host`'s namespace. */
  spawnIn(
    host: NetnsHost,
    command: string,
    args: readonly string[],
    options: SpawnOptions = {},
  ): ChildProcess {
    return spawn("ip", ["netns", "exec", host.namespace, command, ...args], options);
  }

  /** Removes both namespaces (and with them the veth pair). Safe to call twice. */
  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    live.delete(this);
    for (const ns of [this.server.namespace, this.client.namespace]) {
      spawnSync("ip", ["netns", "del", ns], { timeout: 10_000 });
    }
    // Normally gone with its namespace; removed here if a step failed before the move.
    spawnSync("ip", ["link", "del", this.#veth], { timeout: 10_000, stdio: "ignore" });
  }
}
