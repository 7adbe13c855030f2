import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { addFileRatios, GB_OVER_SCP_GOAL } from "../bench/case-files.js";
import { procStatAvailable, startCpuTimer } from "../bench/cpu-time.js";
import { freeLocalPort, onFreePort, waitForLocalListener } from "../bench/local-port.js";
import { childPidsOf, parseParentPid, waitUntilChildless } from "../bench/process-tree.js";
import { start, type BenchContext, type Tools } from "../bench/programs.js";
import { finishSubject, newCase, newSubject } from "../bench/results.js";
import {
  RSYNC_MODULE,
  rsyncClientArgs,
  rsyncDaemonArgs,
  rsyncdConfig,
  rsyncNegotiatedChecksum,
  startRsyncDaemon,
  stopRsyncDaemon,
} from "../bench/rsync-daemon.js";
import { rsyncDaemonSubject } from "../bench/rsync-subject.js";
import { scpSubject } from "../bench/scp-subject.js";
import {
  SCP_CIPHER,
  missingPrivsepDir,
  scpArgs,
  sshSession,
  sshdConfig,
  sshdListeningPort,
  startSshDaemon,
  stopSshDaemon,
} from "../bench/ssh-daemon.js";
import { resultRows } from "../bench/table.js";
import {
  detectTools,
  findExecutable,
  missingToolsReason,
  parseOpenSshVersion,
  parseRsyncVersion,
  searchDirs,
  versionAtLeast,
} from "../bench/tools.js";
import { TempDirs } from "./support/temp-dirs.js";

const tempDirs = new TempDirs();
afterEach(() => tempDirs.removeAll());

/** Bounds every wait on a child process in this file. */
const WAIT_MS = 10_000;

const NO_TOOLS: Tools = {
  socat: null,
  openssl: null,
  cpuTicksPerSecond: null,
  sshd: null,
  scp: null,
  sshKeygen: null,
  openssh: null,
  rsync: null,
};

function benchContext(work: string, tools: Tools): BenchContext {
  return {
    settings: {
      quick: true,
      fileReps: 1,
      dictReps: 1,
      memoryReps: 1,
      startupReps: 1,
      largeBytes: 1,
      smallBytes: 1,
      pipelinedDicts: 1,
      oneShotDicts: 1,
      oneShotConcurrency: 1,
      treeFiles: 1,
      treeReps: 1,
      childTimeoutMs: 20_000,
      caseTimeoutMs: 25_000,
    },
    tools,
    work,
    keyFile: path.join(work, "key"),
    env: process.env,
    large: null,
    small: null,
    signal: AbortSignal.timeout(25_000),
    progress: () => undefined,
  };
}

describe("the sshd of the scp baseline", () => {
  const options = {
    port: 40022,
    hostKey: "/dev/shm/gb-bench-x/ssh/host_ed25519",
    authorizedKeys: "/dev/shm/gb-bench-x/ssh/authorized_keys",
    user: "alice",
    asRoot: false,
  };

  function settings(config: string): Map<string, string> {
    const entries = config
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => {
        const space = line.indexOf(" ");
        return [line.slice(0, space), line.slice(space + 1)] as const;
      });
    expect(new Set(entries.map(([key]) => key)).size).toBe(entries.length);
    return new Map(entries);
  }

  it("listens on 127.0.0.1 only and lets in one user, by the throwaway key only", () => {
    const config = settings(sshdConfig(options));
    expect(config.get("Port")).toBe("40022");
    expect(config.get("ListenAddress")).toBe("127.0.0.1");
    expect(config.get("HostKey")).toBe(`"${options.hostKey}"`);
    expect(config.get("AuthorizedKeysFile")).toBe(`"${options.authorizedKeys}"`);
    expect(config.get("AllowUsers")).toBe("alice");
    expect(config.get("PubkeyAuthentication")).toBe("yes");
    expect(config.get("PasswordAuthentication")).toBe("no");
    expect(config.get("KbdInteractiveAuthentication")).toBe("no");
    expect(config.get("UsePAM")).toBe("no");
    expect(config.get("StrictModes")).toBe("no");
    expect(config.get("PidFile")).toBe("none");
    expect(config.get("Ciphers")).toBe(SCP_CIPHER);
    expect(config.get("Subsystem")).toBe("sftp internal-sftp");
    expect(config.get("PermitRootLogin")).toBe("no");
  });

  it("allows root's login by key when it runs as root", () => {
    const config = settings(sshdConfig({ ...options, user: "root", asRoot: true }));
    expect(config.get("PermitRootLogin")).toBe("prohibit-password");
    expect(config.get("AllowUsers")).toBe("root");
  });

  it("escapes sshd's %-tokens in the key file's path and refuses what it cannot write", () => {
    const config = settings(sshdConfig({ ...options, authorizedKeys: "/tmp/a%u/keys" }));
    expect(config.get("AuthorizedKeysFile")).toBe('"/tmp/a%%u/keys"');
    expect(() => sshdConfig({ ...options, hostKey: '/tmp/a"b' })).toThrow();
    expect(() => sshdConfig({ ...options, hostKey: "/tmp/a\nPermitRootLogin yes" })).toThrow();
    for (const user of ["a b", "*", "al?ce", "root@host", ""]) {
      expect(() => sshdConfig({ ...options, user }), user).toThrow();
    }
  });

  it("runs scp with the cipher forced and nothing of the user's configuration", () => {
    const args = scpArgs({
      port: 40022,
      identity: "/w/ssh/user_ed25519",
      source: "/w/src/large.bin",
      user: "alice",
      destinationDir: "/w/scp",
    });
    const pairs = (flag: string): string[] =>
      args.flatMap((arg, index) => (arg === flag ? [args[index + 1] ?? ""] : []));
    expect(pairs("-c")).toEqual([SCP_CIPHER]);
    expect(pairs("-P")).toEqual(["40022"]);
    expect(pairs("-i")).toEqual(["/w/ssh/user_ed25519"]);
    expect(pairs("-F")).toEqual(["/dev/null"]);
    expect(pairs("-o")).toEqual([
      "BatchMode=yes",
      "IdentitiesOnly=yes",
      "StrictHostKeyChecking=no",
      "UserKnownHostsFile=/dev/null",
      "Compression=no",
    ]);
    expect(args).toContain("-v");
    expect(args.slice(-2)).toEqual(["/w/src/large.bin", "alice@127.0.0.1:/w/scp/"]);
  });

  it("reads sshd's listening port and the directory it lacks", () => {
    expect(sshdListeningPort("Server listening on 127.0.0.1 port 40022.")).toBe(40022);
    expect(sshdListeningPort("Server listening on 127.0.0.1 port 0.")).toBeUndefined();
    expect(sshdListeningPort("Server listening on 127.0.0.1 port 70000.")).toBeUndefined();
    expect(sshdListeningPort("Accepted publickey for alice from 127.0.0.1 port 5")).toBeUndefined();
    expect(missingPrivsepDir("Missing privilege separation directory: /run/sshd\n")).toBe(
      "/run/sshd",
    );
    expect(missingPrivsepDir("Missing privilege separation directory: run/sshd")).toBeNull();
    expect(missingPrivsepDir("Server listening on 127.0.0.1 port 40022.")).toBeNull();
  });

  it("reads the cipher and the file protocol from ssh's -v log", () => {
    const log = [
      "debug1: kex: algorithm: sntrup761x25519-sha512",
      "debug1: kex: server->client cipher: aes256-gcm@openssh.com MAC: <implicit> compression: none",
      "debug1: kex: client->server cipher: aes256-gcm@openssh.com MAC: <implicit> compression: none",
      "debug1: Sending subsystem: sftp",
    ].join("\n");
    expect(sshSession(log)).toEqual({ cipher: SCP_CIPHER, protocol: "SFTP" });
    expect(sshSession("debug1: Sending command: scp -v -t /w/scp/")).toEqual({
      cipher: null,
      protocol: "SCP",
    });
    expect(sshSession("")).toEqual({ cipher: null, protocol: null });
  });
});

describe("the rsync daemon of the rsync baseline", () => {
  it("writes one writable module, without chroot, and no ids unless it runs as root", () => {
    const config = rsyncdConfig({ moduleDir: "/w/rsync", runAs: null });
    const lines = config.split("\n");
    expect(lines).toContain("use chroot = no");
    expect(lines).toContain(`[${RSYNC_MODULE}]`);
    expect(lines).toContain("    path = /w/rsync");
    expect(lines).toContain("    read only = no");
    expect(config).not.toMatch(/^\s*(uid|gid)\s*=/m);
    const asRoot = rsyncdConfig({ moduleDir: "/w/rsync", runAs: { uid: 0, gid: 0 } }).split("\n");
    expect(asRoot).toContain("uid = 0");
    expect(asRoot).toContain("gid = 0");
    // Global settings come before the module's.
    expect(asRoot.indexOf("uid = 0")).toBeLessThan(asRoot.indexOf(`[${RSYNC_MODULE}]`));
  });

  it("refuses a module path that rsyncd.conf would read otherwise", () => {
    for (const dir of ["relative/dir", "/w/a%HOME%", "/w/a\nuid = 0", "/w/trailing "]) {
      expect(() => rsyncdConfig({ moduleDir: dir, runAs: null }), dir).toThrow();
    }
  });

  it("runs the daemon in the foreground on 127.0.0.1 at the port given", () => {
    const args = rsyncDaemonArgs("/w/rsyncd/rsyncd.conf", 40873);
    expect(args.slice(0, 2)).toEqual(["--daemon", "--no-detach"]);
    expect(args[args.indexOf("--config") + 1]).toBe("/w/rsyncd/rsyncd.conf");
    expect(args[args.indexOf("--port") + 1]).toBe("40873");
    expect(args[args.indexOf("--address") + 1]).toBe("127.0.0.1");
  });

  it("sends the whole file, uncompressed, asking for the checksum where rsync can say", () => {
    const modern = rsyncClientArgs({ source: "/w/src/large.bin", port: 40873, version: "3.2.7" });
    expect(modern).toEqual([
      "--whole-file",
      "--debug=NSTR",
      "/w/src/large.bin",
      `rsync://127.0.0.1:40873/${RSYNC_MODULE}/`,
    ]);
    for (const version of ["3.1.3", null]) {
      const args = rsyncClientArgs({ source: "/w/src/large.bin", port: 40873, version });
      expect(args).not.toContain("--debug=NSTR");
      expect(args[0]).toBe("--whole-file");
    }
    expect(modern.some((arg) => arg === "-z" || arg.startsWith("--compress"))).toBe(false);
  });

  it("reads the negotiated checksum", () => {
    expect(rsyncNegotiatedChecksum("Client negotiated checksum: xxh128\n")).toBe("xxh128");
    expect(rsyncNegotiatedChecksum("sent 10 bytes  received 20 bytes")).toBeNull();
  });
});

describe("the baselines' tools", () => {
  it("reads versions and compares them", () => {
    expect(parseRsyncVersion("rsync  version 3.2.7  protocol version 31\nCopyright")).toBe("3.2.7");
    expect(parseRsyncVersion("rsync  version v3.2.3  protocol version 31")).toBe("3.2.3");
    expect(parseRsyncVersion("openrsync: protocol version 29")).toBeNull();
    expect(parseOpenSshVersion("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15")).toBe(
      "OpenSSH_9.2p1",
    );
    expect(parseOpenSshVersion("")).toBeNull();
    expect(versionAtLeast("3.2.0", [3, 2, 0])).toBe(true);
    expect(versionAtLeast("3.10.1", [3, 2, 0])).toBe(true);
    expect(versionAtLeast("3.1.9", [3, 2, 0])).toBe(false);
    expect(versionAtLeast("2.6.9", [3, 2, 0])).toBe(false);
    expect(versionAtLeast("4", [3, 2, 0])).toBe(true);
  });

  it("finds an executable file by absolute path, also in sbin directories", async () => {
    const dir = await tempDirs.make("gb-bench-tools-");
    await writeFile(path.join(dir, "tool"), "#!/bin/sh\n");
    await chmod(path.join(dir, "tool"), 0o755);
    await writeFile(path.join(dir, "plain"), "");
    await chmod(path.join(dir, "plain"), 0o644);
    await mkdir(path.join(dir, "folder"));
    expect(findExecutable("tool", ["relative", dir])).toBe(path.join(dir, "tool"));
    expect(findExecutable("plain", [dir])).toBeNull();
    expect(findExecutable("folder", [dir])).toBeNull();
    expect(findExecutable("missing", [dir])).toBeNull();
    expect(searchDirs(`/a${path.delimiter}${path.delimiter}/b`)).toEqual([
      "/a",
      "/b",
      "/usr/local/sbin",
      "/usr/sbin",
      "/sbin",
    ]);
    expect(searchDirs("/usr/sbin")).toEqual(["/usr/sbin", "/usr/local/sbin", "/sbin"]);
  });

  it("skips a baseline whose programs are missing and says how to get them", async () => {
    const work = await tempDirs.make("gb-bench-skip-");
    const context = benchContext(work, NO_TOOLS);
    const source = { path: path.join(work, "large.bin"), bytes: 1, sha256: "" };
    const scp = scpSubject(context, source, newCase(2, "encrypted", "MB/s", true));
    const rsync = rsyncDaemonSubject(context, source, newCase(1, "plain", "MB/s", true));
    const hint = "apt-get install openssh-server openssh-client rsync";
    expect(scp.skip).toContain("sshd, scp, ssh-keygen not found");
    expect(scp.skip).toContain(hint);
    expect(rsync.skip).toContain("rsync not found");
    expect(rsync.skip).toContain(hint);
    expect(missingToolsReason(["rsync"], "x")).toContain("install it");
    const present = {
      ...NO_TOOLS,
      sshd: "/usr/sbin/sshd",
      scp: "/usr/bin/scp",
      sshKeygen: "/usr/bin/ssh-keygen",
      rsync: { path: "/usr/bin/rsync", version: "3.2.7" },
    };
    const withTools = benchContext(work, present);
    expect(scpSubject(withTools, source, newCase(2, "e", "MB/s", true)).skip).toBeNull();
    expect(rsyncDaemonSubject(withTools, source, newCase(1, "p", "MB/s", true)).skip).toBeNull();
  });
});

describe("the file cases' ratio rows", () => {
  function subject(name: string, samples: number[]) {
    const result = newSubject(name);
    result.samples.push(...samples);
    finishSubject(result);
    return result;
  }

  it("judges gb --encrypt against scp with the goal 1.5", () => {
    const result = newCase(2, "encrypted 1 GiB file", "MB/s", true);
    result.subjects.push(
      subject("gb --encrypt", [300, 330, 360]),
      subject("socat-TLS", [440]),
      subject("scp", [200]),
    );
    addFileRatios(result, true);
    expect(GB_OVER_SCP_GOAL).toEqual({ op: ">=", value: 1.5 });
    const rows = resultRows([result]).filter((row) => row[1]?.startsWith("gb --encrypt/"));
    expect(rows).toEqual([
      ["", "gb --encrypt/socat-TLS", "", "", "", "", "", "0.75", "≥ 1", "NO"],
      ["", "gb --encrypt/scp", "", "", "", "", "", "1.65", "≥ 1.5", "yes"],
    ]);
  });

  it("reports gb against the rsync daemon without a goal, and a skipped one as missing", () => {
    const result = newCase(1, "plain 1 GiB file", "MB/s", true);
    result.subjects.push(subject("gb", [400]), subject("socat", [1000]), subject("node", [320]));
    const rsync = newSubject("rsync-daemon");
    rsync.status = "skipped";
    finishSubject(rsync);
    result.subjects.push(rsync);
    addFileRatios(result, false);
    expect(result.ratios.map((entry) => entry.name)).toEqual([
      "gb/socat",
      "gb/node",
      "gb/rsync-daemon",
    ]);
    expect(result.ratios[2]).toEqual({
      name: "gb/rsync-daemon",
      value: null,
      goal: null,
      met: null,
    });
    const withRsync = newCase(1, "plain 1 GiB file", "MB/s", true);
    withRsync.subjects.push(subject("gb", [400]), subject("rsync-daemon", [800]));
    addFileRatios(withRsync, false);
    expect(withRsync.ratios[2]).toEqual({
      name: "gb/rsync-daemon",
      value: 0.5,
      goal: null,
      met: null,
    });
  });
});

/** Lines of a child process's standard output, each waited for by a predicate. */
function lineReader(child: ChildProcessWithoutNullStreams) {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  return (matches: (line: string) => boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.find(matches);
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no such line within ${WAIT_MS} ms; got ${JSON.stringify(lines)}`));
      }, WAIT_MS);
      waiters.add(check);
      check();
    });
}

/**
 * A stand-in for a daemon: on each line of input it forks a child (which sleeps, or burns
 * 0.3 s of CPU), kills it on "kill", and says when it has reaped it.
 */
const FORKING_DAEMON = `
const { spawn } = require("node:child_process");
const SLEEP = "setInterval(() => {}, 1000)";
const BURN = "const s = process.cpuUsage(); const end = Date.now() + 5000; while (Date.now() < end) { const u = process.cpuUsage(s); if (u.user + u.system >= 300000) process.exit(0); } process.exit(3);";
let child = null;
process.stdin.setEncoding("utf8");
process.stdin.on("data", (text) => {
  for (const command of text.trim().split("\\n")) {
    if (command === "kill") { child.kill(); continue; }
    child = spawn(process.execPath, ["-e", command === "burn" ? BURN : SLEEP], { stdio: "ignore" });
    process.stdout.write("child " + child.pid + "\\n");
    child.once("exit", (code) => process.stdout.write("reaped " + code + "\\n"));
  }
});
process.stdout.write("ready\\n");
`;

describe.runIf(procStatAvailable())("a daemon's children, from /proc", () => {
  const fakes: ChildProcessWithoutNullStreams[] = [];
  afterEach(() => {
    for (const fake of fakes.splice(0)) fake.kill("SIGKILL");
  });

  async function forkingDaemon() {
    const fake = spawn(process.execPath, ["-e", FORKING_DAEMON], { stdio: "pipe" });
    fakes.push(fake);
    const nextLine = lineReader(fake);
    await nextLine((line) => line === "ready");
    return { fake, pid: fake.pid!, nextLine };
  }

  it("reads the parent's pid from a stat line whose name holds parentheses", () => {
    expect(parseParentPid("4242 (sshd: a (b)) S 77 4242 4242 0 -1")).toBe(77);
    expect(parseParentPid("4242 sshd S 77")).toBeNull();
    expect(parseParentPid("4242 (sshd) S")).toBeNull();
  });

  it("lists a child until its parent has reaped it, and waits for that", async () => {
    const daemon = await forkingDaemon();
    expect(childPidsOf(daemon.pid)).toEqual([]);
    const signal = AbortSignal.timeout(WAIT_MS);
    await waitUntilChildless(daemon.pid, "fake daemon", 1000, signal);
    daemon.fake.stdin.write("sleep\n");
    const child = Number((await daemon.nextLine((line) => line.startsWith("child "))).slice(6));
    expect(childPidsOf(daemon.pid)).toEqual([child]);
    await expect(waitUntilChildless(daemon.pid, "fake daemon", 50, signal)).rejects.toThrow(
      /fake daemon/,
    );
    daemon.fake.stdin.write("kill\n");
    await waitUntilChildless(daemon.pid, "fake daemon", WAIT_MS, signal);
    expect(childPidsOf(daemon.pid)).toEqual([]);
  });

  it("counts the CPU time of the children a server reaped", async () => {
    const daemon = await forkingDaemon();
    const stop = startCpuTimer(100, [daemon.pid]);
    daemon.fake.stdin.write("burn\n");
    await daemon.nextLine((line) => line === "reaped 0");
    await waitUntilChildless(daemon.pid, "fake daemon", WAIT_MS, AbortSignal.timeout(WAIT_MS));
    const seconds = stop();
    expect(seconds).not.toBeNull();
    // /proc counts in ticks of 10 ms.
    expect(seconds!).toBeGreaterThanOrEqual(0.25);
  });
});

describe("ports for the daemons", () => {
  it("retries on a fresh port until an attempt succeeds, and gives up after the last", async () => {
    const ports: number[] = [];
    const value = await onFreePort(3, (port) => {
      ports.push(port);
      return ports.length < 3 ? Promise.reject(new Error(`taken ${port}`)) : Promise.resolve(port);
    });
    expect(ports).toHaveLength(3);
    expect(value).toBe(ports[2]);
    for (const port of ports) expect(port).toBeGreaterThan(0);
    let calls = 0;
    await expect(
      onFreePort(2, () => {
        calls++;
        return Promise.reject(new Error(`attempt ${calls}`));
      }),
    ).rejects.toThrow("attempt 2");
    expect(calls).toBe(2);
  });

  it("waits until the port accepts connections, not past the daemon's exit or the time limit", async () => {
    const signal = AbortSignal.timeout(WAIT_MS);
    const port = await freeLocalPort();
    const wait = { timeoutMs: 100, signal, alive: () => true, label: "daemon" };
    await expect(waitForLocalListener(port, wait)).rejects.toThrow(/did not listen/);
    await expect(waitForLocalListener(port, { ...wait, alive: () => false })).rejects.toThrow(
      /exited/,
    );
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    try {
      await waitForLocalListener(port, { ...wait, timeoutMs: WAIT_MS });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the daemons, where they are installed", () => {
  let tools: Tools = NO_TOOLS;
  beforeAll(async () => {
    tools = await detectTools();
  }, WAIT_MS);

  async function sourceFile(work: string): Promise<{ file: string; bytes: Buffer }> {
    const bytes = randomBytes(300_000);
    const file = path.join(work, "src.bin");
    await writeFile(file, bytes);
    return { file, bytes };
  }

  it("scp sends a file to the run's own sshd with AES-256-GCM", async (test) => {
    if (tools.sshd === null || tools.scp === null || tools.sshKeygen === null) test.skip();
    const work = await tempDirs.make("gb-bench-sshd-");
    const context = benchContext(work, tools);
    const { file, bytes } = await sourceFile(work);
    const outDir = path.join(work, "out");
    await mkdir(outDir);
    const daemon = await startSshDaemon(
      context,
      tools.sshd!,
      tools.sshKeygen!,
      path.join(work, "ssh"),
    );
    try {
      const args = scpArgs({
        port: daemon.port,
        identity: daemon.identity,
        source: file,
        user: daemon.user,
        destinationDir: outDir,
      });
      const client = start(context, "scp", tools.scp!, args);
      await client.succeeded();
      await waitUntilChildless(daemon.child.process.pid!, "sshd", WAIT_MS, context.signal);
      expect(sshSession(client.head("stderr")).cipher).toBe(SCP_CIPHER);
      expect(await readdir(outDir)).toEqual(["src.bin"]);
      expect((await readFile(path.join(outDir, "src.bin"))).equals(bytes)).toBe(true);
    } finally {
      await stopSshDaemon(daemon);
    }
    expect(daemon.child.running).toBe(false);
  });

  it("rsync sends a file to the run's own daemon", async (test) => {
    if (tools.rsync === null) test.skip();
    const work = await tempDirs.make("gb-bench-rsyncd-");
    const context = benchContext(work, tools);
    const { file, bytes } = await sourceFile(work);
    const outDir = path.join(work, "out");
    const daemon = await startRsyncDaemon(
      context,
      tools.rsync!.path,
      path.join(work, "rsyncd"),
      outDir,
    );
    try {
      const args = rsyncClientArgs({
        source: file,
        port: daemon.port,
        version: tools.rsync!.version,
      });
      const client = start(context, "rsync", tools.rsync!.path, args);
      await client.succeeded();
      await waitUntilChildless(daemon.child.process.pid!, "rsync daemon", WAIT_MS, context.signal);
      expect(await readdir(outDir)).toEqual(["src.bin"]);
      expect((await readFile(path.join(outDir, "src.bin"))).equals(bytes)).toBe(true);
      if (versionAtLeast(tools.rsync!.version ?? "0", [3, 2, 0])) {
        const log = `${client.head("stdout")}\n${client.head("stderr")}`;
        expect(rsyncNegotiatedChecksum(log)).not.toBeNull();
      }
    } finally {
      await stopRsyncDaemon(daemon);
    }
    expect(daemon.child.running).toBe(false);
  });
});
