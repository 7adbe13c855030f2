import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  SAMPLE_DICT,
  SAMPLE_TEXT,
  exists,
  freshEnv,
  itemEvents,
  runClient,
  runServerToExit,
  sha256,
  startSavingServer,
  startServer,
  tempDir,
  unusedPort,
  writeKeyFile,
} from "./harness.js";

const KEY_ERROR = 5;

describe("key files", () => {
  it("a client with another valid key file exits 5 and nothing is stored", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json"]);
    const keys = await tempDir("gb-e2e-keys-");
    expect(server.stderr.text).toContain("created a new key file");
    const other = path.join(keys, "other.key");
    await writeKeyFile(other);

    const client = await runClient(
      ["--port", String(server.port), "--encrypt", "--key-file", other, "--file", SAMPLE_TEXT],
      { env },
    );
    expect(client.code).toBe(KEY_ERROR);
    expect(client.stderr).toMatch(/^error: .*different key/m);
    expect(client.stdout).toBe("");

    // The right key file, given explicitly, works on the same server.
    const serverKey = path.join(env["XDG_CONFIG_HOME"]!, "gb-transfer", "key");
    const ok = await runClient(
      ["--port", String(server.port), "--encrypt", "--key-file", serverKey, "--file", SAMPLE_TEXT],
      { env },
    );
    expect(ok.code).toBe(0);
    await server.waitForEvent((e) => e["event"] === "item", "the good item");
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(await readdir(saveDir)).toEqual(["notes.txt"]);
    expect(server.stdout.json.filter((e) => e["event"] === "item")).toHaveLength(1);
  });

  it("server and client sharing a --key-file of their own", async () => {
    const keys = await tempDir("gb-e2e-keys-");
    const shared = path.join(keys, "shared.key");
    await writeKeyFile(shared);
    const { env, server } = await startSavingServer(["--json", "--key-file", shared]);
    expect(server.listening).toMatchObject({ keyFile: shared });
    const client = await runClient(
      [
        "--port",
        String(server.port),
        "--json",
        "--encrypt",
        "--key-file",
        shared,
        "--file",
        SAMPLE_TEXT,
      ],
      { env },
    );
    expect(client.code).toBe(0);
    expect(itemEvents(client.stdout)[0]).toMatchObject({ encrypted: true });
    // The default key file was neither needed nor created.
    expect(await exists(path.join(env["XDG_CONFIG_HOME"]!, "gb-transfer", "key"))).toBe(false);
  });

  it("a missing key file exits 5 without connecting", async () => {
    const env = await freshEnv();
    const keys = await tempDir("gb-e2e-keys-");
    const server = await startServer(["--json", "--no-save"], { env });
    const missing = path.join(keys, "missing.key");
    const client = await runClient(
      ["--port", String(server.port), "--encrypt", "--key-file", missing, "--file", SAMPLE_TEXT],
      { env },
    );
    expect(client.code).toBe(KEY_ERROR);
    expect(client.stderr).toMatch(/^error: no key file at /m);
    expect(client.stderr).toMatch(/^hint: /m);

    // No default key file either (a client in a fresh config dir, no --key-file).
    const lonely = await runClient(
      ["--port", String(server.port), "--encrypt", "--file", SAMPLE_TEXT],
      { env: await freshEnv() },
    );
    expect(lonely.code).toBe(KEY_ERROR);
    expect(lonely.stderr).toMatch(/^error: no key file at /m);

    // Neither run connected: the next connection is the server's first.
    const ok = await runClient(["--port", String(server.port), "--file", SAMPLE_TEXT], { env });
    expect(ok.code).toBe(0);
    const event = await server.waitForEvent((e) => e["event"] === "item", "the item");
    expect(event["connection"]).toBe(1);
  });

  it("a key file readable by group/others (0644) is refused with exit 5, by client and server", async () => {
    const env = await freshEnv();
    const keys = await tempDir("gb-e2e-keys-");
    const server = await startServer(["--json", "--no-save"], { env });
    const open = path.join(keys, "open.key");
    await writeKeyFile(open, 0o644);

    const client = await runClient(
      ["--port", String(server.port), "--encrypt", "--key-file", open, "--file", SAMPLE_TEXT],
      { env },
    );
    expect(client.code).toBe(KEY_ERROR);
    expect(client.stderr).toMatch(/^error: permissions 0644 for key file .* are too open/m);
    expect(client.stderr).toContain("hint: chmod 600 ");

    const refused = await runServerToExit(
      ["--host", "127.0.0.1", "--port", "0", "--key-file", open],
      { env },
    );
    expect(refused.code).toBe(KEY_ERROR);
    expect(refused.stderr).toMatch(/^error: cannot load the key: permissions 0644/m);
    expect(refused.stderr).not.toContain("listening");
  });

  it("a malformed key file exits 5", async () => {
    const env = await freshEnv();
    const keys = await tempDir("gb-e2e-keys-");
    const bad = path.join(keys, "bad.key");
    await writeFile(bad, "# gb-transfer key v1 - keep this file secret\nnot hex at all\n", {
      mode: 0o600,
    });
    const client = await runClient(
      ["--port", String(await unusedPort()), "--encrypt", "--key-file", bad, "--file", SAMPLE_TEXT],
      { env },
    );
    expect(client.code).toBe(KEY_ERROR);
    expect(client.stderr).toMatch(/^error: key file .* is malformed/m);
    // The key is never quoted back.
    expect(client.stderr).not.toContain("not hex at all");
  });
});

describe("GB_PASSPHRASE", () => {
  it("the same passphrase on both sides works without any key file; a different one exits 5", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json"], {
      GB_PASSPHRASE: "correct horse battery staple",
    });
    expect(server.listening).toMatchObject({ keyFile: null });
    expect(server.stderr.text).toContain("key: a passphrase from GB_PASSPHRASE");

    const good = await runClient(
      [
        "--port",
        String(server.port),
        "--json",
        "--encrypt",
        "--dict",
        SAMPLE_DICT,
        "--file",
        SAMPLE_TEXT,
      ],
      { env },
    );
    expect(good.stderr).toBe("");
    expect(good.code).toBe(0);
    const notes = await readFile(SAMPLE_TEXT);
    expect(itemEvents(good.stdout)).toEqual([
      expect.objectContaining({ kind: "dict", encrypted: true, savedAs: "data.json" }),
      expect.objectContaining({
        kind: "file",
        encrypted: true,
        sha256: sha256(notes),
        savedAs: "notes.txt",
      }),
    ]);

    const wrong = await runClient(
      ["--port", String(server.port), "--encrypt", "--file", SAMPLE_TEXT],
      { env: { ...env, GB_PASSPHRASE: "incorrect horse" } },
    );
    expect(wrong.code).toBe(KEY_ERROR);
    expect(wrong.stderr).toMatch(/^error: /m);

    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect((await readdir(saveDir)).sort()).toEqual(["data.json", "notes.txt"]);
    // No key file was created anywhere under the config dir.
    expect(await readdir(env["XDG_CONFIG_HOME"]!)).toEqual([]);
  });
});

describe("--require-encryption", () => {
  it("[H-POLICY] a plaintext client is refused before it sends anything (exit 4); an encrypted one is served", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json", "--require-encryption"]);
    expect(server.stderr.text).toContain(
      "accepting: key holders only (Noise NNpsk0); no plaintext",
    );
    const plain = await runClient(["--port", String(server.port), "--file", SAMPLE_TEXT], { env });
    expect(plain.code).toBe(4);
    expect(plain.stderr).toMatch(/^hint: .*--encrypt/m);

    const plainJson = await runClient(
      ["--port", String(server.port), "--json", "--dict", SAMPLE_DICT],
      { env },
    );
    expect(plainJson.code).toBe(4);
    expect(itemEvents(plainJson.stdout)).toEqual([]);

    const encrypted = await runClient(
      ["--port", String(server.port), "--encrypt", "--file", SAMPLE_TEXT],
      { env },
    );
    expect(encrypted.code).toBe(0);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(await readdir(saveDir)).toEqual(["notes.txt"]);
    // The refused clients sent no item: the server had nothing to report but the one stored.
    expect(server.stdout.json.filter((e) => e["event"] === "failure")).toEqual([]);
  });
});
