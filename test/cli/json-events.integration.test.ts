import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { runServer } from "../../src/cli/server-command.js";
import type { ItemFailure } from "../../src/transfer/server/received-item.js";
import type { GbServer } from "../../src/transfer/server.js";
import { SAMPLE_DICT as DATA, SAMPLE_TEXT as NOTES } from "../support/samples.js";
import { fakeIo, testEnv, WAIT_MS, withTimeout } from "./fake-io.js";
import { cleanUp, listenSaving } from "./saving-server.js";

afterEach(cleanUp);

async function listen(options: Parameters<typeof listenSaving>[0] = {}): Promise<GbServer> {
  return (await listenSaving(options)).server;
}

async function client(argv: string[], input: string | Buffer = "") {
  const fake = fakeIo(await testEnv(), input);
  const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, `runClient ${argv.join(" ")}`);
  return { code, stdout: fake.stdout, stderr: fake.stderr.text };
}

describe("[CLI-JSON-FIELDS] gb-client --json events", () => {
  it("[CLI-JSON-PROGRESS] progress events with bytes and total, a final one per item, before its receipt", async () => {
    const server = await listen();
    const { code, stdout } = await client(
      ["--port", String(server.address().port), "--json", "--file", NOTES, "--file", "-"],
      "piped",
    );
    expect(code).toBe(ExitCode.OK);
    const events = stdout.events;
    const finals = events.filter(
      (event) => event["event"] === "progress" && event["final"] === true,
    );
    expect(finals).toEqual([
      {
        event: "progress",
        id: 1,
        name: "notes.txt",
        path: NOTES,
        bytes: 319,
        total: 319,
        final: true,
      },
      { event: "progress", id: 2, name: "stdin", path: "-", bytes: 5, total: null, final: true },
    ]);
    const kinds = events.map((event) => `${String(event["event"])}:${String(event["id"])}`);
    expect(kinds.lastIndexOf("progress:1")).toBeLessThan(kinds.indexOf("stored:1"));
    expect(kinds.lastIndexOf("progress:2")).toBeLessThan(kinds.indexOf("stored:2"));
  });

  it("[CLI-JSON-FIELDS] name is the item's name and path what the user gave, in stored and failed alike", async () => {
    const server = await listen({ dictLimits: { maxBytes: 64, maxDepth: 64, maxValues: 1000 } });
    const { code, stdout } = await client([
      "--port",
      String(server.address().port),
      "--json",
      "--dict",
      DATA,
      "--file",
      NOTES,
    ]);
    expect(code).toBe(ExitCode.REJECTED);
    const [failed, stored] = stdout.json;
    expect(failed).toMatchObject({
      event: "failed",
      id: 1,
      name: "data.json",
      path: DATA,
      code: "DICT_TOO_LARGE",
    });
    expect(stored).toMatchObject({ event: "stored", id: 2, name: "notes.txt", path: NOTES });
    expect(stored?.["durationMs"]).toEqual(expect.any(Number));
    expect(stored?.["bytesPerSecond"]).toEqual(expect.any(Number));
  });

  it("[CLI-JSON-FIELDS] the server's failure event names an item it refused", async () => {
    const server = await listen({ dictLimits: { maxBytes: 64, maxDepth: 64, maxValues: 1000 } });
    const failures: ItemFailure[] = [];
    server.on("failure", (failure) => failures.push(failure));
    await client(["--port", String(server.address().port), "--dict", DATA]);
    expect(failures).toMatchObject([{ id: 1, name: "data.json", code: "DICT_TOO_LARGE" }]);
  });
});

describe("[M-RECEIPT-STORED] a dictionary's receipt names its stored file's hash", () => {
  it("[M-RECEIPT-STORED] storedSha256 is the SHA-256 of the file on the server's disk, in --json and the receipt line", async () => {
    const server = await listen();
    const port = String(server.address().port);
    const json = await client(["--port", port, "--json", "--dict", DATA, "--format", "binary"]);
    expect(json.code).toBe(ExitCode.OK);
    const [stored] = json.stdout.json;
    const onDisk = await readFile(path.join(server.saveDir ?? "", String(stored?.["savedAs"])));
    expect(stored?.["storedSha256"]).toBe(createHash("sha256").update(onDisk).digest("hex"));
    expect(stored?.["sha256"]).not.toBe(stored?.["storedSha256"]);

    const text = await client(["--port", port, "--dict", DATA]);
    expect(text.stdout.text).toMatch(/ · sha256 [0-9a-f]{64} · stored file sha256 [0-9a-f]{64}\n$/);
    const files = await client(["--port", port, "--json", "--file", NOTES]);
    expect(files.stdout.json[0]).toMatchObject({ storedSha256: null });
  });
});

describe("[CLI-QUIET] --quiet", () => {
  it("[CLI-QUIET] gb-client: nothing on success; the error on failure", async () => {
    const server = await listen();
    const ok = await client(["--port", String(server.address().port), "--quiet", "--file", NOTES]);
    expect(ok).toMatchObject({ code: ExitCode.OK, stderr: "" });
    expect(ok.stdout.text).toBe("");
    const missing = await client([
      "--port",
      String(server.address().port),
      "--quiet",
      "--file",
      path.join(NOTES, "nope"),
    ]);
    expect(missing.code).toBe(ExitCode.INPUT);
    expect(missing.stderr).toMatch(/^error: /);
  });

  it("[CLI-QUIET] gb-server: no start-up notes, no items printed", async () => {
    const fake = fakeIo(await testEnv());
    const controller = new AbortController();
    const done = runServer(
      ["--host", "127.0.0.1", "--port", "0", "--quiet", "--json", "--no-save"],
      fake.io,
      controller.signal,
    );
    const listening = await fake.stdout.waitFor(
      (out) => out.json.find((event) => event["event"] === "listening"),
      "listening",
    );
    expect((await client(["--port", String(listening["port"]), "--file", NOTES])).code).toBe(
      ExitCode.OK,
    );
    await fake.stdout.waitFor((out) => out.json.find((event) => event["event"] === "item"), "item");
    controller.abort();
    expect(await withTimeout(done, WAIT_MS, "stop")).toBe(ExitCode.OK);
    expect(fake.stderr.text).toBe("");
  });
});

describe("--help", () => {
  it.each([
    ["gb-client", runClient],
    [
      "gb-server",
      (argv: string[], io: Parameters<typeof runClient>[1]) =>
        runServer(argv, io, new AbortController().signal),
    ],
  ])("%s: no doubled or empty defaults, examples, exit codes", async (_name, run) => {
    const fake = fakeIo(await testEnv());
    expect(await run(["--help"], fake.io)).toBe(ExitCode.OK);
    const help = fake.stdout.text;
    expect(help).not.toMatch(/\(default\)|\(default: \[\]\)|\(default: false\)/);
    expect(help).toContain("Examples:");
    expect(help).toMatch(/Exit codes: 0 .*\n(.*\n)*.*130 interrupted/);
  });
});
