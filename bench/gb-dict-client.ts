/**
 * gb subject of the dictionary cases, using the library. pipelined: one connection,
 * --count sendDict calls issued without waiting, then all receipts awaited and the client
 * closed. oneshot: --concurrency loops, each connecting, sending one dictionary, awaiting
 * its receipt and closing, --count items in all. With --warmup N, an untimed first pass
 * of N items comes before. Prints {"items","elapsedMs","warmup"}.
 */
import { GbClient } from "gb-transfer";
import {
  parseDictClientArgs,
  runLoops,
  runPasses,
  type DictClientReport,
} from "./dict-client-args.js";
import { sampleRecord } from "./sample-dict.js";

const args = parseDictClientArgs(process.argv.slice(2));
const host = "127.0.0.1";

const report: DictClientReport = await runPasses(args, async (count, tag) => {
  if (args.mode === "pipelined") {
    const client = await GbClient.connect({ host, port: args.port });
    try {
      const sent = [];
      for (let index = 0; index < count; index++) {
        sent.push(
          client.sendDict(sampleRecord(index), {
            format: "json",
            name: `rec-${tag}-${index}`,
          }),
        );
      }
      await Promise.all(sent);
    } finally {
      await client.close();
    }
    return;
  }
  await runLoops(count, args.concurrency, async (index) => {
    const client = await GbClient.connect({ host, port: args.port });
    try {
      await client.sendDict(sampleRecord(index), {
        format: "json",
        name: `one-${tag}-${index}`,
      });
    } finally {
      await client.close();
    }
  });
});
console.log(JSON.stringify(report));
