/**
 * gb-server and gb-client on two hosts: network namespaces joined by a veth pair
 * (test/support/netns.ts), so that the client's address is not the server's loopback
 * and every byte crosses a real network boundary, over IPv4 and over IPv6. A man in the
 * middle (test/support/mitm-relay.ts) sits on the path the client uses: in the server's
 * namespace, on the address the client connects to, relaying to the server from a
 * non-loopback address, so the server treats it as any remote peer.
 *
 * Namespaces need root: as root, a machine that cannot make them fails these tests with
 * the reason; without root they are skipped.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { netnsUnavailable, type NetnsHost } from "../support/netns.js";
import { encodeFrame } from "../../src/framing/frame.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import { FrameType, PROTOCOL_VERSION } from "../../src/protocol/constants.js";
import {
  SAMPLE_DICT,
  SAMPLE_IMAGE,
  SAMPLE_TEXT,
  SERVER_BIN,
  freshEnv,
  itemEvents,
  jsonLines,
  sha256,
  tempDir,
  writeKeyFile,
} from "./harness.js";
import {
  KEY_BIN,
  NetnsLab,
  bundleMitmRelay,
  copyDefaultKey,
  type Finished,
  type LabServer,
} from "./netns-harness.js";

const root = process.getuid?.() === 0;
const linux = process.platform === "linux";
/** Why namespaces cannot be made here; as root that fails the tests, it does not skip them. */
const unavailable = netnsUnavailable();

const EXIT_REJECTED = 4;
const EXIT_KEY = 5;
const FINGERPRINT = /^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/;
/** A file several records long: the client seals records of up to 64 KiB [R-RECORD]. */
const LARGE_FILE_BYTES = 300 * 1024;

/** How a client reaches the server: which address family, and the server's --host. */
interface Family {
  readonly name: "IPv4" | "IPv6";
  readonly listen: string;
  readonly address: (host: NetnsHost) => string;
}
const IPV4: Family = { name: "IPv4", listen: "0.0.0.0", address: (host) => host.ipv4 };
const IPV6: Family = { name: "IPv6", listen: "::", address: (host) => host.ipv6 };

/** The session fingerprint of a gb-server `item` or `failure` event. */
function fingerprintOf(event: Record<string, unknown>): unknown {
  const session = event["session"];
  return typeof session === "object" && session !== null && "fingerprint" in session
    ? session.fingerprint
    : undefined;
}

describe.skipIf(!root || !linux)(
  "across network namespaces (these need root on Linux; skipped without)",
  // Every wait inside is bounded on its own; a test runs several programs one after the
  // other, which on a loaded machine can pass the default 30 s.
  { timeout: 60_000 },
  () => {
    let relayDir = "";
    let relayScript = "";
    let lab: NetnsLab | undefined;

    beforeAll(async () => {
      if (unavailable !== undefined) {
        throw new Error(
          `running as root, but network namespaces cannot be made: ${unavailable} (CI installs iproute2 in .ci/run)`,
        );
      }
      // Its own directory: the harness removes its temporary directories after each test.
      relayDir = await mkdtemp(path.join(os.tmpdir(), "gb-netns-relay-"));
      relayScript = await bundleMitmRelay(relayDir);
    });

    beforeEach(() => {
      lab = NetnsLab.create();
    });

    afterEach(async () => {
      await lab?.dispose();
      lab = undefined;
    });

    afterAll(async () => {
      if (relayDir !== "") await rm(relayDir, { recursive: true, force: true });
    });

    function theLab(): NetnsLab {
      if (lab === undefined) throw new Error("no namespaces: beforeEach failed");
      return lab;
    }

    /** A server saving to a fresh directory, and a client machine holding its key. */
    async function keyHolderSetUp(
      serverArgs: readonly string[],
    ): Promise<{ server: LabServer; saveDir: string; clientEnv: NodeJS.ProcessEnv }> {
      const serverEnv = await freshEnv();
      const saveDir = await tempDir("gb-netns-save-");
      const server = await theLab().startServer(["--save-dir", saveDir, ...serverArgs], serverEnv);
      const clientEnv = await freshEnv();
      await copyDefaultKey(
        String(serverEnv["XDG_CONFIG_HOME"]),
        String(clientEnv["XDG_CONFIG_HOME"]),
      );
      return { server, saveDir, clientEnv };
    }

    /** What the client reported with --json: its session, then its items. */
    function clientReport(result: Finished): {
      session: Record<string, unknown> | undefined;
      items: Record<string, unknown>[];
    } {
      return {
        session: jsonLines(result.stdout).find((event) => event["event"] === "session"),
        items: itemEvents(result.stdout),
      };
    }

    /** Names in the save directory, and the temporary files a partial item would leave. */
    async function stored(saveDir: string): Promise<string[]> {
      return (await readdir(saveDir)).sort();
    }

    describe("a key holder", () => {
      it.each([IPV4, IPV6])(
        "[K-ENCRYPT-DEFAULT] [H-FINGERPRINT] over $name: files and a dictionary in json, binary and xml, encrypted by default (no --encrypt), one fingerprint on both sides",
        async (family) => {
          const { server, saveDir, clientEnv } = await keyHolderSetUp(["--host", family.listen]);
          const host = family.address(theLab().server);
          const fingerprints = new Set<unknown>();
          // Three clients at once, one per format; the first also sends two files.
          const runs = await Promise.all(
            (["json", "binary", "xml"] as const).map(async (format) => {
              const files =
                format === "json" ? ["--file", SAMPLE_TEXT, "--file", SAMPLE_IMAGE] : [];
              const result = await theLab().runClient(
                ["--host", host, "--port", String(server.port), "--json", "--dict", SAMPLE_DICT]
                  .concat(["--format", format])
                  .concat(files),
                { env: clientEnv },
              );
              return { result, expected: 1 + files.length / 2 };
            }),
          );
          for (const { result, expected } of runs) {
            expect(result.code, result.stderr).toBe(0);
            const { session, items } = clientReport(result);
            expect(session).toMatchObject({ encrypted: true });
            const fingerprint = session?.["fingerprint"];
            expect(String(fingerprint)).toMatch(FINGERPRINT);
            expect(items).toHaveLength(expected);
            for (const item of items) {
              expect(item).toMatchObject({ event: "stored", encrypted: true });
            }
            // The server shows this session's fingerprint with each of its items.
            await server.stdout.waitFor(
              (out) =>
                out.json.filter(
                  (event) => event["event"] === "item" && fingerprintOf(event) === fingerprint,
                ).length === expected
                  ? true
                  : undefined,
              `${String(expected)} items of session ${String(fingerprint)}`,
            );
            fingerprints.add(fingerprint);
          }
          for (const shown of server.events("item")) {
            expect(shown).toMatchObject({
              encrypted: true,
              remote: expect.stringContaining(family.address(theLab().client)),
            });
          }
          // A fresh session each run: three fingerprints.
          expect(fingerprints.size).toBe(3);
          const names = await stored(saveDir);
          expect(names).toEqual([
            "data-1.json",
            "data-2.json",
            "data.json",
            "image.png",
            "notes.txt",
          ]);
          expect(sha256(await readFile(path.join(saveDir, "notes.txt")))).toBe(
            sha256(await readFile(SAMPLE_TEXT)),
          );
          expect(sha256(await readFile(path.join(saveDir, "image.png")))).toBe(
            sha256(await readFile(SAMPLE_IMAGE)),
          );
          const sent: unknown = JSON.parse(await readFile(SAMPLE_DICT, "utf8"));
          for (const name of ["data.json", "data-1.json", "data-2.json"]) {
            expect(JSON.parse(await readFile(path.join(saveDir, name), "utf8"))).toEqual(sent);
          }
          expect(server.events("failure")).toEqual([]);
        },
      );
    });

    describe("strangers", () => {
      it("[H-POLICY] [H-FAIL] without the key, with a wrong key, with --plaintext, or as a raw plaintext peer: nothing stored, nothing read; the server then serves the key holder", async () => {
        const { server, saveDir, clientEnv } = await keyHolderSetUp(["--host", IPV4.listen]);
        const secret = await secretFiles();
        const target = ["--host", theLab().server.ipv4, "--port", String(server.port)];
        const send = ["--json", "--file", secret.file];

        // No key at all: off loopback the client encrypts [K-ENCRYPT-DEFAULT], so it stops
        // before connecting.
        const noKey = await theLab().runClient([...target, ...send], { env: await freshEnv() });
        expect(noKey.code, noKey.stderr).toBe(EXIT_KEY);

        const wrongEnv = await freshEnv();
        await writeDefaultKey(wrongEnv);
        const wrongKey = await theLab().runClient([...target, ...send], { env: wrongEnv });
        expect(wrongKey.code, wrongKey.stderr).toBe(EXIT_KEY);
        await server.waitForEvent(
          (event) => event["event"] === "failure" && event["code"] === "KEY_MISMATCH",
          "KEY_MISMATCH",
        );

        // The server's HELLO does not offer plaintext to this address: refused before
        // anything is sent [H-MODE].
        const plain = await theLab().runClient([...target, "--plaintext", ...send], {
          env: await freshEnv(),
        });
        expect(plain.code, plain.stderr).toBe(EXIT_REJECTED);

        // A peer that ignores HELLO and sends an item in the clear anyway.
        const work = await tempDir("gb-netns-raw-");
        const input = path.join(work, "plain-client.bin");
        const answer = path.join(work, "answer.bin");
        await writeFile(input, plainFileSession(secret.name, secret.content));
        await theLab().replay(
          relayScript,
          { host: theLab().server.ipv4, port: server.port },
          input,
          answer,
        );
        await server.waitForEvent(
          (event) => event["event"] === "failure" && event["code"] === "ENCRYPTION_REQUIRED",
          "ENCRYPTION_REQUIRED",
        );
        const answered = await readFile(answer);
        expect(answered.includes("ENCRYPTION_REQUIRED")).toBe(true);
        expect(answered.includes(secret.name)).toBe(false);
        expect(await stored(saveDir)).toEqual([]);
        expect(server.events("item")).toEqual([]);

        const holder = await theLab().runClient([...target, "--json", "--file", SAMPLE_TEXT], {
          env: clientEnv,
        });
        expect(holder.code, holder.stderr).toBe(0);
        expect(await stored(saveDir)).toEqual(["notes.txt"]);
      });
    });

    describe("a man in the middle", () => {
      interface Attack {
        readonly name: string;
        readonly tamper: Record<string, unknown>;
        /** The failure the server reports, if it sees one. */
        readonly serverCode: string | undefined;
        /** The client's item failure in --json, when the client got as far as items. */
        readonly clientCode: string | undefined;
        readonly exitCode: number;
        /** The server stored the whole file before the attack (its receipt was hit). */
        readonly storedWhole?: boolean;
      }
      const attacks: Attack[] = [
        {
          name: "[R-FAIL] flips a bit of the client's first record",
          tamper: { action: "flip", direction: "c2s", record: 0 },
          serverCode: "DECRYPT_FAILED",
          clientCode: "DECRYPT_FAILED",
          exitCode: EXIT_KEY,
        },
        {
          name: "[R-FAIL] drops the client's second record",
          tamper: { action: "drop", direction: "c2s", record: 1 },
          serverCode: "DECRYPT_FAILED",
          clientCode: "DECRYPT_FAILED",
          exitCode: EXIT_KEY,
        },
        {
          name: "[R-FAIL] swaps the client's second and third records",
          tamper: { action: "swap", direction: "c2s", record: 1 },
          serverCode: "DECRYPT_FAILED",
          clientCode: "DECRYPT_FAILED",
          exitCode: EXIT_KEY,
        },
        {
          name: "[R-END] cuts the client's stream in the middle of its second record",
          tamper: { action: "truncate", direction: "c2s", record: 1 },
          serverCode: "TRUNCATED",
          clientCode: "TRUNCATED",
          exitCode: EXIT_REJECTED,
        },
        {
          name: "[R-FAIL] flips a bit of the server's first record (the receipt)",
          tamper: { action: "flip", direction: "s2c", record: 0 },
          serverCode: undefined,
          clientCode: "DECRYPT_FAILED",
          exitCode: EXIT_KEY,
          storedWhole: true,
        },
        {
          name: "[H-FAIL] alters the client's handshake message",
          tamper: { action: "flip-handshake", direction: "c2s" },
          serverCode: "KEY_MISMATCH",
          clientCode: undefined,
          exitCode: EXIT_KEY,
        },
        {
          name: "[H-FAIL] alters the server's handshake message",
          tamper: { action: "flip-handshake", direction: "s2c" },
          serverCode: undefined,
          clientCode: undefined,
          exitCode: EXIT_KEY,
        },
        {
          name: "[H-PROLOGUE] alters HELLO (its salt) on its way to the client",
          tamper: { action: "alter-hello" },
          serverCode: "KEY_MISMATCH",
          clientCode: undefined,
          exitCode: EXIT_KEY,
        },
      ];

      it("[R-FAIL] [R-END] [H-FAIL] [H-PROLOGUE] each attack (a record flipped, dropped, swapped or cut either way; a handshake message or HELLO altered) is detected with its code, and nothing partial is stored", async () => {
        const { server, saveDir, clientEnv } = await keyHolderSetUp(["--host", IPV4.listen]);
        // One relay per attack, all on the path at once; each client sends its own file.
        const runs = await Promise.all(
          attacks.map(async (attack) => {
            const relay = await theLab().startRelay(relayScript, {
              listen: { host: theLab().server.ipv4 },
              target: { host: theLab().server.ipv4, port: server.port },
              tamper: attack.tamper,
            });
            const secret = await secretFiles(LARGE_FILE_BYTES);
            const result = await theLab().runClient(
              ["--host", theLab().server.ipv4, "--port", String(relay.port), "--json"].concat([
                "--file",
                secret.file,
              ]),
              { env: clientEnv },
            );
            await relay.waitClosed(1);
            return { attack, secret, result };
          }),
        );
        for (const { attack, result } of runs) {
          expect(result.code, `${attack.name}\n${result.stderr}`).toBe(attack.exitCode);
          const failed = clientReport(result).items.filter((item) => item["event"] === "failed");
          expect(failed, attack.name).toMatchObject(
            attack.clientCode === undefined ? [] : [{ code: attack.clientCode }],
          );
        }
        // The server's reports cannot be told apart by attack (each came through a relay):
        // their codes, counted.
        const serverCodes = attacks.flatMap((attack) =>
          attack.serverCode === undefined ? [] : [attack.serverCode],
        );
        await server.stdout.waitFor(
          (out) =>
            out.json.filter((event) => event["event"] === "failure").length >= serverCodes.length
              ? true
              : undefined,
          `${String(serverCodes.length)} failures`,
        );
        expect(
          server
            .events("failure")
            .map((event) => event["code"])
            .sort(),
        ).toEqual(serverCodes.sort());
        // Only the file whose receipt was attacked is stored, whole: the server had it all.
        const whole = runs.filter(({ attack }) => attack.storedWhole === true);
        expect(await stored(saveDir)).toEqual(whole.map(({ secret }) => secret.name).sort());
        for (const { secret } of whole) {
          expect(sha256(await readFile(path.join(saveDir, secret.name)))).toBe(
            sha256(secret.content),
          );
        }
        expect(server.events("item")).toHaveLength(whole.length);
      });

      it("[R-FAIL] [H-PROLOGUE] replays a recorded session: DECRYPT_FAILED on the same run, KEY_MISMATCH after a restart; nothing new is stored", async () => {
        const serverEnv = await freshEnv();
        const saveDir = await tempDir("gb-netns-save-");
        const serverArgs = ["--host", IPV4.listen, "--save-dir", saveDir];
        let server = await theLab().startServer(serverArgs, serverEnv);
        const clientEnv = await freshEnv();
        await copyDefaultKey(
          String(serverEnv["XDG_CONFIG_HOME"]),
          String(clientEnv["XDG_CONFIG_HOME"]),
        );
        const capture = await tempDir("gb-netns-capture-");
        const relay = await theLab().startRelay(relayScript, {
          listen: { host: theLab().server.ipv4 },
          target: { host: theLab().server.ipv4, port: server.port },
          capture,
        });
        const secret = await secretFiles();
        const recorded = await theLab().runClient(
          ["--host", theLab().server.ipv4, "--port", String(relay.port), "--file", secret.file],
          { env: clientEnv },
        );
        expect(recorded.code, recorded.stderr).toBe(0);
        await relay.waitClosed(1);
        expect(await stored(saveDir)).toEqual([secret.name]);
        const recording = path.join(capture, "1-c2s.bin");

        const replay = async (port: number, code: string): Promise<void> => {
          await theLab().replay(
            relayScript,
            { host: theLab().server.ipv4, port },
            recording,
            path.join(capture, `answer-${code}.bin`),
          );
          await server.waitForEvent(
            (event) => event["event"] === "failure" && event["code"] === code,
            code,
          );
          expect(await stored(saveDir)).toEqual([secret.name]);
          expect(server.events("item")).toHaveLength(server === first ? 1 : 0);
        };
        const first = server;
        // The same run: message 1 passes (the same HELLO), but the server's fresh
        // ephemeral key gives the session new keys, and the recorded records fail.
        await replay(server.port, "DECRYPT_FAILED");
        first.child.kill("SIGTERM");
        expect(await first.exited).toBe(0);
        server = await theLab().startServer(serverArgs, serverEnv);
        // After a restart HELLO carries a new salt: the recorded message 1 no longer
        // matches the prologue.
        await replay(server.port, "KEY_MISMATCH");
      });
    });

    describe("what an observer sees", () => {
      it("[R-RECORD] an encrypted session's traffic, both ways, holds no file name, content, dictionary key or value (json, binary, xml); the same sent --plaintext holds them (control)", async () => {
        const { server, clientEnv } = await keyHolderSetUp([
          "--host",
          IPV4.listen,
          "--allow-insecure-plaintext",
        ]);
        const capture = await tempDir("gb-netns-capture-");
        const relay = await theLab().startRelay(relayScript, {
          listen: { host: theLab().server.ipv4 },
          target: { host: theLab().server.ipv4, port: server.port },
          capture,
        });
        const secret = await secretFiles();
        const target = ["--host", theLab().server.ipv4, "--port", String(relay.port)];
        const formats = ["json", "binary", "xml"] as const;
        // Encrypted (connections 1 to 3), then --plaintext (4 to 6); the formats of one
        // mode at once, so which connection carried which format is not known.
        for (const mode of [[], ["--plaintext"]]) {
          const results = await Promise.all(
            formats.map((format) => {
              const file = format === "json" ? ["--file", secret.file] : [];
              return theLab().runClient(
                [...target, ...mode, "--json", "--dict", secret.dict, "--format", format, ...file],
                { env: clientEnv },
              );
            }),
          );
          for (const result of results) {
            expect(result.code, result.stderr).toBe(0);
            const encrypted = mode.length === 0;
            for (const item of itemEvents(result.stdout)) expect(item).toMatchObject({ encrypted });
            // In the clear to another machine: the client says so.
            if (!encrypted) expect(result.stderr).toMatch(/^warning: /m);
          }
          await relay.waitClosed(mode.length === 0 ? formats.length : 2 * formats.length);
        }
        const traffic = async (connection: number, way: "c2s" | "s2c"): Promise<Buffer> =>
          readFile(path.join(capture, `${String(connection)}-${way}.bin`));
        const encryptedConnections = [1, 2, 3];
        const plainConnections = [4, 5, 6];

        const needles = [secret.name, secret.content.toString("utf8"), secret.key, secret.value];
        for (const connection of encryptedConnections) {
          for (const way of ["c2s", "s2c"] as const) {
            const bytes = await traffic(connection, way);
            expect(bytes.length).toBeGreaterThan(0);
            for (const needle of needles) {
              for (const encoded of encodings(needle)) {
                expect(
                  bytes.includes(encoded),
                  `${needle} in connection ${connection} ${way}`,
                ).toBe(false);
              }
            }
          }
        }
        // Control: every plaintext connection shows the dictionary, the one that carried
        // the file shows its name and content, and its receipt names the file on the way back.
        const plain = await Promise.all(
          plainConnections.map(async (connection) => ({
            c2s: await traffic(connection, "c2s"),
            s2c: await traffic(connection, "s2c"),
          })),
        );
        for (const { c2s } of plain) {
          expect(c2s.includes(secret.key)).toBe(true);
          expect(c2s.includes(secret.value)).toBe(true);
        }
        const withFile = plain.filter(({ c2s }) => c2s.includes(secret.content));
        expect(withFile).toHaveLength(1);
        expect(withFile[0]?.c2s.includes(secret.name)).toBe(true);
        expect(withFile[0]?.s2c.includes(secret.name)).toBe(true);
      });
    });

    describe("the README's two machines", () => {
      it("[K-ENCRYPT-DEFAULT] the steps as written: gb-key generate, gb-server --host 0.0.0.0, gb-key export | gb-key import, gb-key fingerprint on both, gb-client --host A --file notes.txt", async () => {
        const lab = theLab();
        const a = await freshEnv();
        const b = await freshEnv();
        const aDir = await tempDir("gb-netns-a-");
        const bDir = await tempDir("gb-netns-b-");
        // 2. On A, create a key and start the server.
        const generated = await lab.run(lab.server, [KEY_BIN, "generate"], { env: a, cwd: aDir });
        expect(generated.code, generated.stderr).toBe(0);
        const server = lab.spawn(lab.server, [SERVER_BIN, "--host", "0.0.0.0"], {
          env: a,
          cwd: aDir,
        });
        await server.stderr.waitFor(
          (err) => (/gb-server listening on 0\.0\.0\.0:6688 /.test(err.text) ? true : undefined),
          "gb-server listening on 0.0.0.0:6688",
        );
        // 3. Move the key to B (ssh carries the pipe between the machines).
        const exported = await lab.run(lab.server, [KEY_BIN, "export"], { env: a });
        expect(exported.code, exported.stderr).toBe(0);
        const imported = await lab.run(lab.client, [KEY_BIN, "import"], {
          env: b,
          input: exported.stdout,
        });
        expect(imported.code, imported.stderr).toBe(0);
        // 4. Compare fingerprints.
        const fingerprints = await Promise.all(
          [
            [lab.server, a],
            [lab.client, b],
          ].map(async ([host, env]) => {
            const shown = await lab.run(host as NetnsHost, [KEY_BIN, "fingerprint"], {
              env: env as NodeJS.ProcessEnv,
            });
            expect(shown.code, shown.stderr).toBe(0);
            return /[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}/.exec(shown.stdout)?.[0];
          }),
        );
        expect(fingerprints[0]).toMatch(FINGERPRINT);
        expect(fingerprints[1]).toBe(fingerprints[0]);
        // 5. On B, send.
        await writeFile(path.join(bDir, "notes.txt"), await readFile(SAMPLE_TEXT));
        const sent = await lab.runClient(["--host", lab.server.ipv4, "--file", "notes.txt"], {
          env: b,
          cwd: bDir,
        });
        expect(sent.code, sent.stderr).toBe(0);
        const session = /session encrypted · fingerprint (\S+)/.exec(sent.stderr)?.[1];
        expect(session).toMatch(FINGERPRINT);
        expect(sent.stdout).toContain("· encrypted ·");
        await server.stdout.waitFor(
          (out) => (out.text.includes(`session ${String(session)}`) ? true : undefined),
          "the server showing the same session fingerprint",
        );
        expect(sha256(await readFile(path.join(aDir, "received", "notes.txt")))).toBe(
          sha256(await readFile(SAMPLE_TEXT)),
        );
      });
    });
  },
);

/** Distinctive bytes to look for on the wire: a file named and filled with them, a dictionary of them. */
interface Secret {
  readonly name: string;
  readonly content: Buffer;
  readonly file: string;
  readonly key: string;
  readonly value: string;
  readonly dict: string;
}

async function secretFiles(size?: number): Promise<Secret> {
  const token = randomBytes(8).toString("hex");
  const dir = await tempDir("gb-netns-secret-");
  const name = `gbsecret-name-${token}.txt`;
  const marker = Buffer.from(`gbsecret-content-${token}\n`);
  const content =
    size === undefined
      ? marker
      : Buffer.concat([marker, randomBytes(Math.max(0, size - marker.length))]);
  const file = path.join(dir, name);
  await writeFile(file, content);
  const key = `gbsecret-key-${token}`;
  const value = `gbsecret-value-${token}`;
  const dict = path.join(dir, "dict.json");
  await writeFile(dict, JSON.stringify({ [key]: value, count: 3 }));
  return { name, content, file, key, value, dict };
}

/** `text` as an observer might find it: UTF-8, UTF-16, hex, base64. */
function encodings(text: string): Buffer[] {
  const utf8 = Buffer.from(text, "utf8");
  return [
    utf8,
    Buffer.from(text, "utf16le"),
    Buffer.from(utf8.toString("hex")),
    Buffer.from(utf8.toString("base64").replace(/=+$/, "")),
  ];
}

/** A plain client's whole stream, preamble to LAST_CHUNK, ignoring what the server says. */
function plainFileSession(name: string, content: Buffer): Buffer {
  const meta = JSON.stringify({ id: 1, meta: { kind: "file", name, size: content.length } });
  return Buffer.concat([
    encodePreamble(PROTOCOL_VERSION),
    encodeFrame(FrameType.ITEM, Buffer.from(meta)),
    encodeFrame(FrameType.LAST_CHUNK, content),
  ]);
}

/** A valid key file at the default place of `env`'s XDG_CONFIG_HOME: another machine's key. */
async function writeDefaultKey(env: NodeJS.ProcessEnv): Promise<void> {
  const directory = path.join(String(env["XDG_CONFIG_HOME"]), "gb-transfer");
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await writeKeyFile(path.join(directory, "key"));
}
