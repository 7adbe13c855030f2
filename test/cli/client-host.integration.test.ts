/**
 * gb-client's host and mode against real servers on this machine: IPv6 and bracketed
 * addresses, host names (one that resolves, one that cannot [K-HOST]), gb-server's
 * --host ::, 0.0.0.0 and [::1], and the mode a key or --plaintext chooses
 * [K-ENCRYPT-DEFAULT]. The same across a network boundary: test/e2e/netns.test.ts.
 */
import { readdir } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { resolveClientHost } from "../../src/cli/client-host.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { PASSPHRASE_ENV } from "../../src/cli/passphrase-env.js";
import { SAMPLE_TEXT as NOTES } from "../support/samples.js";
import { fakeIo, removeTempDirs, tempDir, testEnv, withTimeout, WAIT_MS } from "./fake-io.js";
import { startInProcessServer, stopInProcessServers } from "./in-process-server.js";

/** A name that never resolves: the reserved top-level domain of RFC 2606. */
const UNRESOLVABLE = "gb-transfer-test.invalid";

afterEach(async () => {
  await stopInProcessServers();
  await removeTempDirs();
});

/** Whether this machine has an IPv6 loopback to listen on. */
async function hasIpv6Loopback(): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once("error", () => {
      resolve(false);
    });
    probe.listen(0, "::1", () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}
const ipv6 = await hasIpv6Loopback();

interface Served {
  readonly env: NodeJS.ProcessEnv;
  readonly saveDir: string;
  readonly port: number;
  readonly listening: Record<string, unknown>;
  readonly stderr: () => string;
  readonly items: () => Record<string, unknown>[];
}

/** gb-server in-process with --json, --port 0 and `args`, saving to a fresh directory. */
async function serve(args: string[], env?: NodeJS.ProcessEnv): Promise<Served> {
  const serverEnv = env ?? (await testEnv());
  const saveDir = await tempDir("gb-cli-save-");
  const { fake, listening, port } = await startInProcessServer(
    ["--port", "0", "--json", "--save-dir", saveDir, ...args],
    serverEnv,
  );
  return {
    env: serverEnv,
    saveDir,
    port,
    listening,
    stderr: () => fake.stderr.text,
    items: () => fake.stdout.json.filter((event) => event["event"] === "item"),
  };
}

async function send(argv: string[], env: NodeJS.ProcessEnv) {
  const fake = fakeIo(env);
  const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, `runClient ${argv.join(" ")}`);
  const events = fake.stdout.json;
  return {
    code,
    stderr: fake.stderr.text,
    session: events.find((event) => event["event"] === "session"),
    stored: events.filter((event) => event["event"] === "stored"),
  };
}

describe.skipIf(!ipv6)("IPv6 (skipped: this machine has no IPv6 loopback)", () => {
  it("[K-HOST] gb-server --host [::1]; gb-client --host ::1 and [::1]: plaintext on loopback", async () => {
    const server = await serve(["--host", "[::1]"]);
    expect(server.listening).toMatchObject({ host: "::1" });
    expect(server.stderr()).toContain(`gb-server listening on [::1]:${server.port} `);
    for (const host of ["::1", "[::1]", "0:0:0:0:0:0:0:1"]) {
      const result = await send(
        ["--host", host, "--port", String(server.port), "--json", "--file", NOTES],
        server.env,
      );
      expect(result.code, result.stderr).toBe(ExitCode.OK);
      expect(result.session).toBeUndefined();
      expect(result.stored).toMatchObject([{ kind: "file", encrypted: false }]);
    }
    expect(server.items()).toHaveLength(3);
    expect(server.items()[0]).toMatchObject({ remote: expect.stringMatching(/^\[?::1\]?:\d+$/) });
  });

  it("[K-HOST] gb-server --host :: takes IPv4 and IPv6 clients", async () => {
    const server = await serve(["--host", "::"]);
    expect(server.stderr()).toContain(`gb-server listening on [::]:${server.port} `);
    for (const host of ["127.0.0.1", "::1"]) {
      const result = await send(
        ["--host", host, "--port", String(server.port), "--json", "--file", NOTES],
        server.env,
      );
      expect(result.code, result.stderr).toBe(ExitCode.OK);
      expect(result.stored).toMatchObject([{ encrypted: false }]);
    }
  });
});

describe("[K-HOST] host names", () => {
  it("gb-server --host 0.0.0.0; gb-client --host localhost: resolved, loopback, plaintext", async () => {
    const server = await serve(["--host", "0.0.0.0"]);
    expect(server.stderr()).toContain(`gb-server listening on 0.0.0.0:${server.port} `);
    const result = await send(
      ["--host", "localhost", "--port", String(server.port), "--json", "--file", NOTES],
      server.env,
    );
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(result.stored).toMatchObject([{ encrypted: false }]);
    expect(await readdir(server.saveDir)).toEqual([path.basename(NOTES)]);
  });

  it("localhost resolves to loopback addresses only", async () => {
    const host = await resolveClientHost("localhost");
    expect(host.loopback).toBe(true);
    expect(host.addresses.length).toBeGreaterThan(0);
  });

  it("a name that does not resolve is CONNECT_FAILED (exit 3) with a hint naming --host, before any key is read", async () => {
    await expect(resolveClientHost(UNRESOLVABLE)).rejects.toMatchObject({
      code: "CONNECT_FAILED",
      cause: { code: "ENOTFOUND" },
    });
    // No key file exists in this environment: the host fails first, not the key.
    const result = await send(["--host", UNRESOLVABLE, "--file", NOTES], await testEnv());
    expect(result.code).toBe(ExitCode.NETWORK);
    expect(result.stderr).toMatch(/^hint: .*--host/m);
  });

  it("host:port in --host is a usage error (exit 2)", async () => {
    const result = await send(["--host", "localhost:6688", "--file", NOTES], await testEnv());
    expect(result.code).toBe(ExitCode.USAGE);
  });
});

describe("[K-ENCRYPT-DEFAULT] the mode gb-client chooses on loopback", () => {
  it("--key-file given, no --encrypt: the session is encrypted", async () => {
    const server = await serve([]);
    const keyFile = path.join(String(server.env["XDG_CONFIG_HOME"]), "gb-transfer", "key");
    const result = await send(
      ["--port", String(server.port), "--key-file", keyFile, "--json", "--file", NOTES],
      await testEnv(),
    );
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(result.session).toMatchObject({ encrypted: true });
    expect(result.stored).toMatchObject([{ encrypted: true }]);
    expect(server.items()).toMatchObject([
      { encrypted: true, session: { fingerprint: result.session?.["fingerprint"] } },
    ]);
  });

  it(`${PASSPHRASE_ENV} set, no --encrypt: the session is encrypted with the passphrase`, async () => {
    const env = await testEnv({ [PASSPHRASE_ENV]: "correct horse battery staple" });
    const server = await serve([], env);
    const result = await send(["--port", String(server.port), "--json", "--file", NOTES], env);
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(result.stored).toMatchObject([{ encrypted: true }]);
  });

  it("--plaintext with a key given: plaintext, and a note says the key is not used", async () => {
    const server = await serve([]);
    const keyFile = path.join(String(server.env["XDG_CONFIG_HOME"]), "gb-transfer", "key");
    const result = await send(
      [
        "--port",
        String(server.port),
        "--key-file",
        keyFile,
        "--plaintext",
        "--json",
        "--file",
        NOTES,
      ],
      await testEnv(),
    );
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(result.session).toBeUndefined();
    expect(result.stored).toMatchObject([{ encrypted: false }]);
    expect(result.stderr).toMatch(/^--plaintext: /m);
    expect(server.items()).toMatchObject([{ encrypted: false }]);
  });

  it("--plaintext with --encrypt is a usage error (exit 2); nothing is sent", async () => {
    const server = await serve([]);
    const result = await send(
      ["--port", String(server.port), "--plaintext", "--encrypt", "--file", NOTES],
      server.env,
    );
    expect(result.code).toBe(ExitCode.USAGE);
    expect(await readdir(server.saveDir)).toEqual([]);
  });

  it("[H-MODE] --plaintext to a server that refuses it: exit 4 before sending, hints naming --encrypt and --allow-insecure-plaintext", async () => {
    const server = await serve(["--require-encryption"]);
    const result = await send(
      ["--port", String(server.port), "--plaintext", "--file", NOTES],
      server.env,
    );
    expect(result.code).toBe(ExitCode.REJECTED);
    expect(result.stderr).toMatch(/^hint: .*--encrypt/m);
    expect(result.stderr).toMatch(/^hint: .*--allow-insecure-plaintext/m);
    expect(await readdir(server.saveDir)).toEqual([]);
  });
});
