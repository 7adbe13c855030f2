/**
 * An OpenSSH server of the benchmark's own, for the scp baseline: throwaway host and user
 * keys in the work directory, its own configuration (no system file is read), listening
 * on 127.0.0.1 only and letting in only the user running the benchmark with that key.
 * Unprivileged when the benchmark is; as root, it logs root in (by key only).
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Child } from "./children.js";
import { onFreePort } from "./local-port.js";
import {
  READY_TIMEOUT_MS,
  STOP_GRACE_MS,
  killChild,
  start,
  type BenchContext,
} from "./programs.js";

/** The cipher scp is told to use: AES-256-GCM, as gb --encrypt. */
export const SCP_CIPHER = "aes256-gcm@openssh.com";

/** Tries at starting sshd, each on a fresh port (another process may take one first). */
const START_ATTEMPTS = 3;

/** sshd_config's characters that would end or change a value: quotes, line breaks. */
const UNSAFE_CONFIG_VALUE = /["\r\n]/;

export interface SshdConfigOptions {
  readonly port: number;
  readonly hostKey: string;
  readonly authorizedKeys: string;
  /** The one account let in: the benchmark's own. */
  readonly user: string;
  /** Whether sshd runs as root (then `user` is root, whose login must be allowed). */
  readonly asRoot: boolean;
}

function quotedPath(value: string): string {
  if (UNSAFE_CONFIG_VALUE.test(value)) {
    throw new Error(`cannot write this path into sshd_config: ${JSON.stringify(value)}`);
  }
  return `"${value}"`;
}

/** The text of sshd_config for {@link startSshDaemon}. */
export function sshdConfig(options: SshdConfigOptions): string {
  if (!/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(options.user)) {
    throw new Error(`cannot let this user name into sshd_config: ${JSON.stringify(options.user)}`);
  }
  return [
    "# sshd for one benchmark run, started with -f: no other configuration file is read.",
    `Port ${options.port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${quotedPath(options.hostKey)}`,
    "PidFile none",
    // sshd expands %-tokens in this one value.
    `AuthorizedKeysFile ${quotedPath(options.authorizedKeys.replaceAll("%", "%%"))}`,
    `AllowUsers ${options.user}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    // Without root, sshd cannot use PAM; with it, PAM would read the system's setup.
    "UsePAM no",
    // The work directory's parent (/dev/shm, /tmp) is writable by all, which StrictModes refuses.
    "StrictModes no",
    `PermitRootLogin ${options.asRoot ? "prohibit-password" : "no"}`,
    `Ciphers ${SCP_CIPHER}`,
    // In-process: no path to sftp-server that varies between systems, no login shell.
    "Subsystem sftp internal-sftp",
    "AllowTcpForwarding no",
    "X11Forwarding no",
    "PermitTTY no",
    "",
  ].join("\n");
}

export interface ScpArgsOptions {
  readonly port: number;
  /** The private key that the server's authorized_keys lets in. */
  readonly identity: string;
  readonly source: string;
  readonly user: string;
  /** The directory the file goes to, absolute. */
  readonly destinationDir: string;
}

/**
 * scp's arguments: the cipher forced, no compression, no configuration or known host of
 * the user's, never a prompt; `-v` for the log lines that say what was negotiated.
 */
export function scpArgs(options: ScpArgsOptions): string[] {
  return [
    "-v",
    "-F",
    "/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "Compression=no",
    "-c",
    SCP_CIPHER,
    "-P",
    String(options.port),
    "-i",
    options.identity,
    options.source,
    `${options.user}@127.0.0.1:${options.destinationDir}/`,
  ];
}

/** The port in sshd's "Server listening on 127.0.0.1 port 2222." line. */
export function sshdListeningPort(line: string): number | undefined {
  const match = /^Server listening on \S+ port (\d+)\.\s*$/.exec(line.trim());
  if (match === null) return undefined;
  const port = Number(match[1]);
  return port > 0 && port < 65536 ? port : undefined;
}

/**
 * The directory sshd, started as root, says it lacks: "Missing privilege separation
 * directory: /run/sshd". Its service creates it at start, so it is missing where the
 * service does not run.
 */
export function missingPrivsepDir(log: string): string | null {
  const found = /Missing privilege separation directory: (\/\S+)/.exec(log)?.[1] ?? null;
  return found === null ? null : path.normalize(found);
}

export interface SshSession {
  /** The cipher of the client's data, to the server ("aes256-gcm@openssh.com"). */
  readonly cipher: string | null;
  /** "SFTP" (scp's protocol since OpenSSH 9.0) or "SCP" (the legacy one, `scp -O`). */
  readonly protocol: "SFTP" | "SCP" | null;
}

/** What ssh's `-v` log (through scp) says about the session it set up. */
export function sshSession(log: string): SshSession {
  const cipher = /kex: client->server cipher: (\S+)/.exec(log)?.[1] ?? null;
  let protocol: SshSession["protocol"] = null;
  if (/Sending subsystem: sftp\b/.test(log)) protocol = "SFTP";
  else if (/Sending command: scp\b/.test(log)) protocol = "SCP";
  return { cipher, protocol };
}

export interface SshDaemon {
  readonly child: Child;
  readonly port: number;
  readonly user: string;
  /** The private key scp logs in with. */
  readonly identity: string;
  /** The privilege separation directory created for sshd, or null. */
  readonly createdDir: string | null;
}

async function generateKey(
  context: BenchContext,
  sshKeygen: string,
  file: string,
  comment: string,
): Promise<void> {
  const args = ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file];
  await start(context, "ssh-keygen", sshKeygen, args).succeeded();
}

/**
 * Starts sshd in `dir` (created) on a free port and waits until it listens. As root,
 * creates the privilege separation directory sshd asks for when it is missing.
 */
export async function startSshDaemon(
  context: BenchContext,
  sshd: string,
  sshKeygen: string,
  dir: string,
): Promise<SshDaemon> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKey = path.join(dir, "host_ed25519");
  const identity = path.join(dir, "user_ed25519");
  const authorizedKeys = path.join(dir, "authorized_keys");
  const configFile = path.join(dir, "sshd_config");
  await generateKey(context, sshKeygen, hostKey, "gb-bench-host");
  await generateKey(context, sshKeygen, identity, "gb-bench-user");
  await copyFile(`${identity}.pub`, authorizedKeys);
  const asRoot = process.getuid?.() === 0;
  const user = os.userInfo().username;
  let createdDir: string | null = null;

  const attempt = async (port: number): Promise<SshDaemon> => {
    await writeFile(configFile, sshdConfig({ port, hostKey, authorizedKeys, user, asRoot }), {
      mode: 0o600,
    });
    const child = start(context, "sshd", sshd, ["-D", "-e", "-f", configFile], {
      lifetime: "case",
    });
    try {
      const listening = await child.waitForLine("stderr", sshdListeningPort, READY_TIMEOUT_MS);
      if (listening !== port) throw new Error(`sshd listens on port ${listening}, not ${port}`);
      return { child, port, user, identity, createdDir };
    } catch (error) {
      await killChild(child);
      const missing = missingPrivsepDir(child.tail("stderr"));
      if (asRoot && missing !== null && createdDir === null) {
        // What the openssh-server service does when it starts; left in place afterwards,
        // since another sshd may need it by then.
        await mkdir(missing, { mode: 0o755 });
        createdDir = missing;
        context.progress(`created ${missing}, which sshd needs when started as root`);
      }
      throw error;
    }
  };
  // One attempt more than the port races need, for the directory created above.
  return onFreePort(START_ATTEMPTS + 1, attempt);
}

/** Stops sshd (its connections have ended by then); SIGKILL if it lingers. */
export async function stopSshDaemon(daemon: SshDaemon): Promise<void> {
  await daemon.child.stop("SIGTERM", STOP_GRACE_MS);
}
