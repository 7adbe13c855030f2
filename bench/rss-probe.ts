/**
 * Preloaded with `node --import` into a measured process: when it exits, writes its peak
 * resident set size (KiB, {@link peakRssKiB}) to the file named by GB_BENCH_RSS_FILE.
 */
import { writeFileSync } from "node:fs";
import { peakRssKiB } from "./peak-rss.js";
import { RSS_FILE_ENV } from "./rss-env.js";

const target = process.env[RSS_FILE_ENV];
if (target !== undefined && target !== "") {
  process.on("exit", () => {
    writeFileSync(target, `${peakRssKiB()}\n`);
  });
}
