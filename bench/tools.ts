/**
 * The optional programs the baselines need, looked for once at the start of a run. A
 * missing one skips its baseline, and the run says how to get it.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { procStatAvailable } from "./cpu-time.js";
import type { Tools } from "./programs.js";

const execFileAsync = promisify(execFile);

/** How long a tool may take to print its version. */
const VERSION_TIMEOUT_MS = 10_000;

/**
 * Where system daemons live: sshd is in /usr/sbin, which an unprivileged user's PATH
 * often leaves out.
 */
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"] as const;

/** The Debian packages that hold the programs of the scp and rsync baselines. */
export const DAEMON_PACKAGES_HINT = "apt-get install openssh-server openssh-client rsync";

/**
 * The absolute path of the executable `name` in `dirs` (in order), or null. An absolute
 * path matters for sshd, which re-executes itself and refuses to start otherwise.
 */
export function findExecutable(name: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    if (dir === "" || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return null;
}

/** The directories of `PATH`, then the sbin directories it may lack. */
export function searchDirs(pathVariable: string | undefined): string[] {
  const dirs = (pathVariable ?? "").split(path.delimiter).filter((dir) => dir !== "");
  return [...new Set([...dirs, ...SBIN_DIRS])];
}

/** "3.2.7" from `rsync --version`'s first line ("rsync  version 3.2.7  protocol version 31"). */
export function parseRsyncVersion(text: string): string | null {
  return /\brsync\s+version\s+v?(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? null;
}

/** "OpenSSH_9.2p1" from `ssh -V` ("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 …"). */
export function parseOpenSshVersion(text: string): string | null {
  return /\bOpenSSH_[^\s,]+/.exec(text)?.[0] ?? null;
}

/** Whether a dotted version ("3.2.7") is at least `minimum` ([3, 2, 0]). */
export function versionAtLeast(version: string, minimum: readonly number[]): boolean {
  const parts = version.split(".").map((part) => Number.parseInt(part, 10));
  for (let index = 0; index < minimum.length; index++) {
    const have = parts[index] ?? 0;
    const want = minimum[index] ?? 0;
    if (Number.isNaN(have)) return false;
    if (have !== want) return have > want;
  }
  return true;
}

/** What a tool prints (both streams) when asked for its version, or null when it cannot be run. */
async function toolOutput(command: string, args: readonly string[]): Promise<string | null> {
  try {
    const { stdout, stderr } = await execFileAsync(command, [...args], {
      timeout: VERSION_TIMEOUT_MS,
    });
    return `${stdout}${stderr}`.trim();
  } catch {
    return null;
  }
}

export async function detectTools(): Promise<Tools> {
  const socat = await toolOutput("socat", ["-V"]);
  const openssl = await toolOutput("openssl", ["version"]);
  let cpuTicksPerSecond: number | null = null;
  if (procStatAvailable()) {
    // Linux's USER_HZ, which /proc's times count in, is 100 wherever getconf is missing.
    const ticks = Number(await toolOutput("getconf", ["CLK_TCK"]));
    cpuTicksPerSecond = Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  }
  const dirs = searchDirs(process.env["PATH"]);
  const ssh = findExecutable("ssh", dirs);
  const rsync = findExecutable("rsync", dirs);
  const sshVersion = ssh === null ? null : await toolOutput(ssh, ["-V"]);
  const rsyncVersion = rsync === null ? null : await toolOutput(rsync, ["--version"]);
  return {
    socat: socat === null ? null : (/socat version \S+/.exec(socat)?.[0] ?? "socat"),
    openssl: openssl === null ? null : (openssl.split("\n")[0] ?? "openssl"),
    cpuTicksPerSecond,
    sshd: findExecutable("sshd", dirs),
    scp: findExecutable("scp", dirs),
    sshKeygen: findExecutable("ssh-keygen", dirs),
    openssh: sshVersion === null ? null : parseOpenSshVersion(sshVersion),
    rsync: rsync === null ? null : { path: rsync, version: parseRsyncVersion(rsyncVersion ?? "") },
  };
}

/** Why a baseline is skipped: which of its programs are missing, and how to get them. */
export function missingToolsReason(missing: readonly string[], baseline: string): string {
  const verb = missing.length === 1 ? "install it" : "install them";
  return `${missing.join(", ")} not found: ${verb} (e.g. ${DAEMON_PACKAGES_HINT}) to compare against ${baseline}`;
}
