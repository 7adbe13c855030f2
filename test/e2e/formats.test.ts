import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeDict, type DictFormat } from "../../src/codecs/dict-format.js";
import { SAMPLE_DICT, runClient, sample, sha256, startSavingServer } from "./harness.js";

const RECEIPT_LINE =
  /^✔ dict data\.json stored as (\S+) · \d+(?:\.\d)? (?:B|KiB) in [\d.]+ m?s \([^)]+\/s\) (· encrypted )?· sha256 ([0-9a-f]{64}) · stored file sha256 ([0-9a-f]{64})$/;

describe.each<[string, DictFormat]>([
  ["json", "json"],
  ["binary", "msgpack"],
  ["xml", "xml"],
])("--format %s", (option, wireFormat) => {
  it("stores samples/data.json as pretty JSON equal to the sample, plain and encrypted", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json"]);
    const wire = encodeDict(sample, wireFormat);

    for (const [index, encrypt] of [false, true].entries()) {
      const args = ["--port", String(server.port), "--dict", SAMPLE_DICT, "--format", option];
      const client = await runClient(encrypt ? [...args, "--encrypt"] : args, { env });
      expect(client.code).toBe(0);
      // [H-FINGERPRINT] an encrypted session's one note on stderr; nothing else.
      const fingerprint =
        /^session encrypted · fingerprint ([0-9a-f]{4}(?:-[0-9a-f]{4}){3})\n$/.exec(
          client.stderr,
        )?.[1];
      expect(fingerprint !== undefined || client.stderr === "", client.stderr).toBe(true);
      expect(fingerprint !== undefined).toBe(encrypt);

      // The receipt line on stdout.
      const lines = client.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      const match = RECEIPT_LINE.exec(lines[0]!);
      expect(match, lines[0]).not.toBeNull();
      const [, savedAs, encryptedNote, receiptSha, storedSha] = match!;
      expect(savedAs).toBe(index === 0 ? "data.json" : "data-1.json");
      expect(encryptedNote !== undefined).toBe(encrypt);
      expect(receiptSha).toBe(sha256(wire));

      // The stored file: pretty-printed JSON deep-equal to the sample.
      const text = await readFile(path.join(saveDir, savedAs!), "utf8");
      expect(JSON.parse(text)).toEqual(sample);
      // [M-RECEIPT-STORED] the receipt line's stored file hash is what sha256sum prints.
      expect(storedSha).toBe(sha256(Buffer.from(text, "utf8")));
      expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);

      // The server's item event.
      const event = await server.waitForEvent(
        (e) => e["event"] === "item" && e["connection"] === index + 1,
        `item of connection ${index + 1}`,
      );
      expect(event).toMatchObject({
        event: "item",
        id: 1,
        kind: "dict",
        name: "data.json",
        format: wireFormat,
        encrypted: encrypt,
        session: { encrypted: encrypt, fingerprint: fingerprint ?? null },
        bytes: wire.length,
        sha256: receiptSha,
        savedAs,
        savedPath: path.join(saveDir, savedAs!),
      });
      expect(event["remote"]).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(event["value"]).toEqual(sample);
    }

    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });
});
