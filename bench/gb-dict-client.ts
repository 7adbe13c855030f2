/**
 * gb subject of the dictionary cases, using the library. pipelined: one connection,
 * --count sendDict calls issued without waiting, then all receipts awaited and the client
 * closed. oneshot: --concurrency loops, each connecting, sending one dictionary, awaiting
 * its receipt and closing, --count items in all. Prints {"items","elapsedMs"}.
 */
import { performance } from "node:perf_hooks";
import { GbClient } from "gb-transfer";
import { parseDictClientArgs, runLoops, type DictClientReport } from "./dict-client-args.js";
import { sampleRecord } from "./sample-dict.js";

const args = parseDictClientArgs(process.argv.slice(2));
const host = "127.0.0.1";

const started = performance.now();
if (args.mode === "pipelined") {
  const client = await GbClient.connect({ host, port: args.port });
  try {
    const sent = [];
    for (let index = 0; index < args.count; index++) {
      sent.push(
        client.sendDict(sampleRecord(index), {
          format: "json",
          name: `rec-${args.tag}-${index}`,
        }),
      );
    }
    await Promise.all(sent);
  } finally {
    await client.close();
  }
} else {
  await runLoops(args.count, args.concurrency, async (index) => {
    const client = await GbClient.connect({ host, port: args.port });
    try {
      await client.sendDict(sampleRecord(index), {
        format: "json",
        name: `one-${args.tag}-${index}`,
      });
    } finally {
      await client.close();
    }
  });
}
const report: DictClientReport = { items: args.count, elapsedMs: performance.now() - started };
console.log(JSON.stringify(report));
