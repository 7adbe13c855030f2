/**
 * Case 7's clients, through the library, in the clear (the server takes loopback peers so).
 *
 *   load --port P --connections N: N connections, each sending maximal dictionaries (about
 *     16 MiB and up to a million values; json, msgpack and xml in turn) back to back until
 *     SIGTERM; then each waits for its last answer and closes. Prints {"ready":true} once
 *     every connection has sent its first one, and at the end
 *     {"stored":S,"refused":{"CODE":N,…}}.
 *   probe --port P --count N --gap MS: one connection sending N small dictionaries one at
 *     a time, MS apart, each timed from send to matched receipt. Prints
 *     {"latenciesMs":[...],"failed":K}.
 */
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  DEFAULT_DICT_LIMITS,
  GbClient,
  GbError,
  prepareDict,
  type PreparedDict,
} from "gb-transfer";
import { sampleRecord } from "./sample-dict.js";

const HOST = "127.0.0.1";
/** Room left under the size limit for the encoding's framing around the list. */
const SIZE_MARGIN_BYTES = 4096;
/** Values in the largest dictionary: the limit, less the top-level object and the list. */
const MAX_LIST_VALUES = DEFAULT_DICT_LIMITS.maxValues - 2;
const ELEMENT = "abcdefghijkl";
/** Elements of the sample that measures one element's size. */
const SAMPLE_ELEMENTS = 1000;

const FORMATS = ["json", "msgpack", "xml"] as const;

/** The largest list of short strings `format` carries within the dictionary limits. */
function maximalDict(format: (typeof FORMATS)[number]): PreparedDict {
  const sample = prepareDict({ list: Array<string>(SAMPLE_ELEMENTS).fill(ELEMENT) }, { format });
  const perElement = sample.meta.size / SAMPLE_ELEMENTS;
  const count = Math.min(
    MAX_LIST_VALUES,
    Math.floor((DEFAULT_DICT_LIMITS.maxBytes - SIZE_MARGIN_BYTES) / perElement),
  );
  return prepareDict({ list: Array<string>(count).fill(ELEMENT) }, { format, name: "maximal" });
}

async function load(port: number, connections: number): Promise<void> {
  const dicts = FORMATS.map(maximalDict);
  let started = 0;
  let stopping = false;
  let stored = 0;
  const refused: Record<string, number> = {};
  process.once("SIGTERM", () => {
    stopping = true;
  });
  const loops = Array.from({ length: connections }, async (_, index) => {
    const client = await GbClient.connect({ host: HOST, port });
    for (let round = index; !stopping; round++) {
      const sending = client.send(dicts[round % dicts.length]!);
      if (round === index && ++started === connections) {
        console.log(JSON.stringify({ ready: true }));
      }
      try {
        await sending;
        stored++;
      } catch (error) {
        // A refusal (BUSY when the server's dictionary budget is spent) is part of the load.
        const code = error instanceof GbError ? error.code : "other";
        refused[code] = (refused[code] ?? 0) + 1;
      }
    }
    await client.close();
  });
  await Promise.all(loops);
  console.log(JSON.stringify({ stored, refused }));
}

async function probe(port: number, count: number, gapMs: number): Promise<void> {
  const client = await GbClient.connect({ host: HOST, port });
  const latenciesMs: number[] = [];
  let failed = 0;
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    try {
      await client.sendDict(sampleRecord(index), { format: "json", name: `probe-${index}` });
      latenciesMs.push(performance.now() - started);
    } catch {
      failed++;
    }
    await delay(gapMs);
  }
  await client.close();
  console.log(JSON.stringify({ latenciesMs, failed }));
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: "string" },
    connections: { type: "string", default: "4" },
    count: { type: "string", default: "200" },
    gap: { type: "string", default: "20" },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0) throw new Error("--port is required");
if (positionals[0] === "load") await load(port, Number(values.connections));
else if (positionals[0] === "probe") await probe(port, Number(values.count), Number(values.gap));
else throw new Error("usage: hostile-client load|probe --port P");
