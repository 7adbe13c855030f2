/**
 * Loaded with `node --import` before the README's library example, in its process:
 * records what the example's clients sent and what its servers received, and writes that
 * as JSON to the file named by README_EXAMPLE_REPORT when the process exits. It only
 * observes; every call goes through to the package unchanged. It imports the package by
 * name, so it shares the module instance the example loads.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { GbClient, GbServer, encodeDict, type SentItem } from "gb-transfer";
import { REPORT_VARIABLE, type ExampleReport, type SentRecord } from "./readme-example-report.js";

const reportFile = process.env[REPORT_VARIABLE];
if (reportFile === undefined) throw new Error(`${REPORT_VARIABLE} is not set`);
const report: ExampleReport = { sent: [], received: [], failures: [] };
process.on("exit", () => {
  writeFileSync(reportFile, JSON.stringify(report));
});

const listen = GbServer.listen.bind(GbServer);
GbServer.listen = async (options) => {
  const server = await listen(options);
  server.on("item", (item) => {
    const { kind, bytes, sha256, savedPath } = item;
    report.received.push({ kind, bytes, sha256, savedPath });
  });
  server.on("failure", (failure) => {
    report.failures.push({ code: failure.code, message: failure.message });
  });
  return server;
};

/* eslint-disable @typescript-eslint/unbound-method -- each is called with its instance */
const { sendDict, sendFile, sendStream } = GbClient.prototype;
/* eslint-enable @typescript-eslint/unbound-method */

GbClient.prototype.sendDict = function (this: GbClient, value, options) {
  return observe({ kind: "dict", json: jsonOf(value) }, sendDict.call(this, value, options));
};
GbClient.prototype.sendFile = function (this: GbClient, filePath, options) {
  const source = path.resolve(filePath);
  return observe({ kind: "file", source }, sendFile.call(this, filePath, options));
};
GbClient.prototype.sendStream = function (this: GbClient, source, options) {
  return observe({ kind: "stream" }, sendStream.call(this, source, options));
};

function observe(
  sent: Pick<SentRecord, "kind"> & Partial<Pick<SentRecord, "source" | "json">>,
  promise: Promise<SentItem>,
): Promise<SentItem> {
  const record: SentRecord = {
    source: null,
    json: null,
    ...sent,
    result: null,
    error: null,
  };
  report.sent.push(record);
  promise.then(
    (item) => {
      record.result = { bytes: item.bytes, sha256: item.sha256 };
    },
    (error: unknown) => {
      record.error = errorName(error);
    },
  );
  return promise;
}

/** The dictionary as the package encodes it in JSON, or null if it cannot be encoded. */
function jsonOf(value: Parameters<typeof encodeDict>[0]): string | null {
  try {
    return Buffer.from(encodeDict(value, "json")).toString("utf8");
  } catch {
    // The send reports the same problem; the report shows json: null beside it.
    return null;
  }
}

function errorName(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string")
    return error.code;
  return String(error);
}
