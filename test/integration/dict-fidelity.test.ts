/**
 * Dictionaries exactly as written, end to end: a real GbClient sends to a real GbServer on
 * 127.0.0.1 (port 0), in each format, and both what the server hands its listeners and
 * the file it stores are the dictionary that was sent — member order, integers of any size,
 * floats as floats [C-ORDER] [C-INT] [C-FLOAT] [V-DICT].
 */
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runServer } from "../../src/cli/server-command.js";
import { encodeDict, type DictFormat } from "../../src/codecs/dict-format.js";
import { writeDictJsonLines } from "../../src/codecs/dict-json-text.js";
import type { DictObject } from "../../src/codecs/dict-value.js";
import { parseDictJson } from "../../src/codecs/json-codec.js";
import { toDictObject } from "../../src/codecs/to-dict-object.js";
import { GbClient } from "../../src/transfer/client.js";
import { fakeIo, testEnv, withTimeout, WAIT_MS as CLI_WAIT_MS } from "../cli/fake-io.js";
import {
  exactDictArbitrary,
  jsonDictArbitrary,
  type IntegerRange,
} from "../codecs/dict-arbitraries.js";
import { dict, expectSameDict } from "../codecs/expect-same-dict.js";
import { connectClient, sha256, startServer, useResources, type TestServer } from "./helpers.js";

const resources = useResources();

const FORMATS = ["json", "msgpack", "xml"] as const;
/** Each run is a real round trip over TCP with a stored file: fewer runs than a unit test. */
const END_TO_END_RUNS = 40;

const integerRange = (format: DictFormat): IntegerRange =>
  format === "msgpack" ? "msgpack" : "any";

/** The stored file's text, from an independent layout of the expected dictionary. */
function prettyText(value: DictObject): string {
  const lines: string[] = [];
  writeDictJsonLines(value, (line) => lines.push(line) > 0);
  return `${lines.join("\n")}\n`;
}

/** Sends `value`, waits for the server's item, and checks the value and the stored file. */
async function expectExactRoundTrip(
  ts: TestServer,
  client: GbClient,
  value: DictObject,
  format: DictFormat,
  name: string,
  expected: DictObject = value,
): Promise<void> {
  const sent = await client.sendDict(value, { format, name });
  const item = await ts.waitItem((candidate) => candidate.name === name);
  expect(item.sha256).toBe(sent.sha256);
  expectSameDict(item.value!, expected);
  const stored = await readFile(item.savedPath!, "utf8");
  expect(stored).toBe(prettyText(expected));
  expectSameDict(parseDictJson(stored), expected);
}

describe.each(FORMATS)("%s end to end", (format) => {
  it("[C-ORDER] [C-INT] [C-FLOAT] the item's value and the stored file are the dictionary sent (property)", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        exactDictArbitrary({
          loneSurrogates: format !== "msgpack",
          integers: integerRange(format),
        }),
        async (value) => {
          run++;
          await expectExactRoundTrip(ts, client, value, format, `exact-${run}`);
        },
      ),
      { numRuns: END_TO_END_RUNS },
    );
    await client.close();
    expect(ts.failures).toEqual([]);
  });

  it("[C-ORDER] [C-INT] [C-FLOAT] the issue's own examples", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const value = dict(
      ["10", 1n],
      ["2", 2n],
      ["1", 3n],
      ["n", 9007199254740993n],
      ["f", [1.0, -0, 0.1]],
      ["o", dict(["b", null], ["0", true])],
    );
    await expectExactRoundTrip(ts, client, value, format, "issue");
    const stored = await readFile(ts.items[0]!.savedPath!, "utf8");
    expect(stored).toBe(
      [
        "{",
        '  "10": 1,',
        '  "2": 2,',
        '  "1": 3,',
        '  "n": 9007199254740993,',
        '  "f": [',
        "    1.0,",
        "    -0.0,",
        "    0.1",
        "  ],",
        '  "o": {',
        '    "b": null,',
        '    "0": true',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    await client.close();
  });

  it("plain objects arrive as toDictObject makes them (property)", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        jsonDictArbitrary({ loneSurrogates: format !== "msgpack" }),
        async (plain) => {
          run++;
          const name = `plain-${run}`;
          const sent = await client.sendDict(plain, { format, name });
          expect(sent.sha256).toBe(sha256(encodeDict(toDictObject(plain), format)));
          const item = await ts.waitItem((candidate) => candidate.name === name);
          expectSameDict(item.value!, toDictObject(plain));
        },
      ),
      { numRuns: END_TO_END_RUNS },
    );
    await client.close();
  });
});

describe("the server's JSON output [C-ORDER]", () => {
  it("writes the item's value exactly: order, integers, floats", async () => {
    const env = await testEnv();
    const fake = fakeIo(env);
    const controller = new AbortController();
    const done = runServer(
      ["--host", "127.0.0.1", "--port", "0", "--json", "--no-save"],
      fake.io,
      controller.signal,
    );
    try {
      const listening = await fake.stdout.waitFor(
        (out) => out.json.find((event) => event["event"] === "listening"),
        "the listening event",
      );
      const client = await GbClient.connect({ host: "127.0.0.1", port: Number(listening["port"]) });
      const value = dict(["10", 1n], ["2", [1.0, -0]], ["big", 2n ** 64n + 1n], ["s", "\u202e"]);
      await client.sendDict(value, { format: "xml", name: "d" });
      await client.close();
      const line = await fake.stdout.waitFor(
        (out) => out.text.split("\n").find((text) => text.includes('"event":"item"')),
        "the item event",
      );
      expect(line).toMatch(
        /,"value":\{"10":1,"2":\[1\.0,-0\.0\],"big":18446744073709551617,"s":"\\u202e"\}\}$/,
      );
      expect(JSON.parse(line)).toMatchObject({ event: "item", kind: "dict", name: "d" });
    } finally {
      controller.abort();
      await withTimeout(done, CLI_WAIT_MS, "server stop");
    }
  });
});
