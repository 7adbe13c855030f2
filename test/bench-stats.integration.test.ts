import { describe, expect, it } from "vitest";
import { socatListeningPort, socatTlsSession } from "../bench/case-files.js";
import { parseDictClientReport } from "../bench/case-dicts.js";
import { ACK_BYTES, FrameParser, encodeFrame } from "../bench/frames.js";
import {
  figureResult,
  finishSubject,
  newCase,
  newSubject,
  ratioResult,
  type CaseResult,
} from "../bench/results.js";
import { sampleRecord } from "../bench/sample-dict.js";
import {
  formatFigure,
  formatGoal,
  formatRatio,
  formatSize,
  itemsPerSecond,
  median,
  meetsGoal,
  megabytesPerSecond,
  ratio,
  summarize,
} from "../bench/stats.js";
import { formatColumns, formatResultsTable, resultRows } from "../bench/table.js";

describe("median, min, max", () => {
  it("takes the middle sample of an odd count, whatever the order", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([9, 2, 7, 4, 100])).toBe(7);
  });

  it("averages the two middle samples of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  it("is null without samples, and the sample itself with one", () => {
    expect(median([])).toBeNull();
    expect(median([42])).toBe(42);
  });

  it("does not reorder the caller's samples", () => {
    const samples = [3, 1, 2];
    summarize(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it("summarizes median, min and max", () => {
    expect(summarize([7, 3, 9, 1, 5])).toEqual({ median: 5, min: 1, max: 9 });
    expect(summarize([])).toEqual({ median: null, min: null, max: null });
  });

  it("refuses samples that are not finite numbers", () => {
    expect(() => median([1, Number.NaN])).toThrow(RangeError);
    expect(() => summarize([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });

  it("fills a subject's figures from its samples", () => {
    const subject = newSubject("gb");
    subject.samples.push(300, 100, 200, 400);
    finishSubject(subject);
    expect([subject.median, subject.min, subject.max]).toEqual([250, 100, 400]);
    expect(subject.cpuMedian).toBeNull();
    subject.cpuSeconds.push(3, null, 1, 2);
    finishSubject(subject);
    expect(subject.cpuMedian).toBe(2);
  });
});

describe("ratios and goals", () => {
  it("divides the subject's figure by the baseline's", () => {
    expect(ratio(900, 1000)).toBeCloseTo(0.9, 12);
    expect(ratio(130, 100)).toBeCloseTo(1.3, 12);
  });

  it("is null when a figure is missing or the baseline is zero", () => {
    expect(ratio(null, 10)).toBeNull();
    expect(ratio(10, null)).toBeNull();
    expect(ratio(10, 0)).toBeNull();
  });

  it("checks at-least and at-most goals, boundaries included", () => {
    expect(meetsGoal(0.9, { op: ">=", value: 0.9 })).toBe(true);
    expect(meetsGoal(0.89, { op: ">=", value: 0.9 })).toBe(false);
    expect(meetsGoal(1.3, { op: "<=", value: 1.3 })).toBe(true);
    expect(meetsGoal(1.31, { op: "<=", value: 1.3 })).toBe(false);
    expect(meetsGoal(null, { op: ">=", value: 1 })).toBeNull();
  });

  it("builds ratio results with the goal checked, or none without a goal", () => {
    expect(ratioResult("gb/socat", 450, 500, { op: ">=", value: 0.9 })).toEqual({
      name: "gb/socat",
      value: 0.9,
      goal: { op: ">=", value: 0.9 },
      met: true,
    });
    expect(ratioResult("gb/node", 400, 500, null).met).toBeNull();
    expect(ratioResult("gb/socat", 400, null, { op: ">=", value: 0.9 }).met).toBeNull();
    expect(figureResult("peak", 101, { op: "<=", value: 100 }).met).toBe(false);
  });

  it("computes throughputs in MB (10^6 bytes) and items per second", () => {
    expect(megabytesPerSecond(1024 * 1024 * 1024, 1000)).toBeCloseTo(1073.741824, 6);
    expect(megabytesPerSecond(50_000_000, 500)).toBe(100);
    expect(itemsPerSecond(20_000, 2000)).toBe(10_000);
    expect(() => itemsPerSecond(1, 0)).toThrow(RangeError);
  });
});

describe("formatting", () => {
  it("formats goals, ratios, figures and sizes", () => {
    expect(formatGoal({ op: ">=", value: 0.9 })).toBe("≥ 0.9");
    expect(formatGoal({ op: "<=", value: 1.15 })).toBe("≤ 1.15");
    expect(formatRatio(0.9234)).toBe("0.92");
    expect(formatRatio(0.0591)).toBe("0.059");
    expect(formatFigure(1234.56)).toBe("1235");
    expect(formatFigure(98.76)).toBe("98.8");
    expect(formatFigure(3.14159)).toBe("3.14");
    expect(formatSize(1024 * 1024 * 1024)).toBe("1 GiB");
    expect(formatSize(100 * 1024 * 1024)).toBe("100 MiB");
    expect(formatSize(1000)).toBe("1000 B");
  });

  it("aligns columns: text to the left, numbers to the right", () => {
    const text = formatColumns(
      ["name", "value"],
      [
        ["a", "1"],
        ["longer", "100"],
      ],
      ["left", "right"],
    );
    expect(text.split("\n")).toEqual([
      "name    value",
      "------  -----",
      "a           1",
      "longer    100",
    ]);
  });

  function sampleCase(): CaseResult {
    const result = newCase(1, "plain 1 GiB file", "MB/s", true);
    const gb = newSubject("gb");
    gb.samples.push(900, 1000, 950);
    gb.cpuSeconds.push(3.5, 3.25, 4);
    finishSubject(gb);
    const socat = newSubject("socat");
    socat.samples.push(1000, 1000, 1000);
    finishSubject(socat);
    const node = newSubject("node");
    node.status = "skipped";
    node.reason = "not here";
    result.subjects.push(gb, socat, node);
    result.ratios.push(
      ratioResult("gb/socat", gb.median, socat.median, { op: ">=", value: 0.9 }),
      ratioResult("gb/node", gb.median, null, { op: ">=", value: 1 }),
    );
    return result;
  }

  it("puts a row per subject and per ratio under the case title", () => {
    const rows = resultRows([sampleCase()]);
    expect(rows[0]).toEqual(["1. plain 1 GiB file", "(higher is better)"]);
    expect(rows[1]).toEqual(["", "gb", "950.0", "900.0", "1000", "MB/s", "3.50", "", "", ""]);
    expect(rows[2]).toEqual(["", "socat", "1000", "1000", "1000", "MB/s", "", "", "", ""]);
    expect(rows[3]).toEqual(["", "node", "skipped", "", "", "MB/s", "", "", "", ""]);
    expect(rows[4]).toEqual(["", "gb/socat", "", "", "", "", "", "0.95", "≥ 0.9", "yes"]);
    expect(rows[5]).toEqual(["", "gb/node", "", "", "", "", "", "-", "≥ 1", "-"]);
  });

  it("marks failed cases, failed subjects and missed goals", () => {
    const result = sampleCase();
    result.status = "failed";
    result.subjects[0]!.status = "failed";
    result.ratios.push(ratioResult("worse", 1, 2, { op: ">=", value: 0.9 }));
    const table = formatResultsTable([result]);
    expect(table).toContain("1. plain 1 GiB file [FAILED]");
    expect(table).toContain("gb [FAILED]");
    expect(table).toMatch(/worse\s+0\.50\s+≥ 0\.9\s+NO$/m);
    expect(table.split("\n")[0]).toMatch(
      /^case\s+subject\s+median\s+min\s+max\s+unit\s+cpu s\s+ratio/,
    );
  });
});

describe("baseline frames", () => {
  const payloads = [Buffer.from('{"a":1}'), Buffer.alloc(0), Buffer.from("x".repeat(1000))];
  const stream = Buffer.concat(payloads.map((payload) => encodeFrame(payload)));

  it("parses frames split at every possible byte boundary", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const parser = new FrameParser();
      const parsed = [
        ...parser.push(stream.subarray(0, cut)),
        ...parser.push(stream.subarray(cut)),
      ];
      expect(parsed.map((payload) => payload.toString())).toEqual(
        payloads.map((payload) => payload.toString()),
      );
      expect(parser.pendingBytes).toBe(0);
    }
  });

  it("parses frames fed one byte at a time", () => {
    const parser = new FrameParser();
    const parsed: Buffer[] = [];
    for (const byte of stream) parsed.push(...parser.push(Buffer.of(byte)));
    expect(parsed.map((payload) => payload.toString())).toEqual(
      payloads.map((payload) => payload.toString()),
    );
  });

  it("refuses a frame longer than its limit", () => {
    const parser = new FrameParser(10);
    expect(() => parser.push(encodeFrame(Buffer.alloc(11)))).toThrow(RangeError);
  });

  it("sends dictionaries of about 200 bytes", () => {
    const size = JSON.stringify(sampleRecord(12_345)).length;
    expect(size).toBeGreaterThanOrEqual(170);
    expect(size).toBeLessThanOrEqual(240);
    expect(ACK_BYTES).toBe(4);
  });
});

describe("parsing what the programs print", () => {
  it("finds socat's listening port", () => {
    expect(
      socatListeningPort("2026/01/01 10:11:07 socat[8846] N listening on AF=2 127.0.0.1:54379"),
    ).toBe(54379);
    expect(socatListeningPort("2026/01/01 socat[1] N opening connection to AF=2 1.2.3.4:80")).toBe(
      undefined,
    );
  });

  it("finds the TLS protocol and cipher in socat's log", () => {
    const log = [
      "socat[1] N SSL proto version used: TLSv1.3",
      "socat[1] N SSL connection using TLS_AES_256_GCM_SHA384",
    ].join("\n");
    expect(socatTlsSession(log)).toEqual({
      protocol: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384",
    });
    expect(socatTlsSession("nothing")).toEqual({ protocol: null, cipher: null });
  });

  it("reads a dictionary client's report and checks its count", () => {
    expect(parseDictClientReport('noise\n{"items":20,"elapsedMs":12.5}\n', 20)).toEqual({
      items: 20,
      elapsedMs: 12.5,
      warmup: null,
    });
    expect(() => parseDictClientReport('{"items":19,"elapsedMs":12.5}', 20)).toThrow(/19 items/);
    expect(() => parseDictClientReport("not json", 20)).toThrow(/no report/);
    expect(() => parseDictClientReport('{"items":20}', 20)).toThrow(/invalid report/);
  });

  it("reads a dictionary client's warm-up pass and checks it is the one asked for", () => {
    const line = '{"items":20,"elapsedMs":12.5,"warmup":{"items":30,"elapsedMs":40}}';
    expect(parseDictClientReport(line, 20, 30)).toEqual({
      items: 20,
      elapsedMs: 12.5,
      warmup: { items: 30, elapsedMs: 40 },
    });
    expect(() => parseDictClientReport(line, 20, 29)).toThrow(/30 items, not 29/);
    expect(() => parseDictClientReport(line, 20)).toThrow(/warm-up pass/);
    expect(() => parseDictClientReport('{"items":20,"elapsedMs":12.5}', 20, 30)).toThrow(
      /warm-up pass/,
    );
    expect(() =>
      parseDictClientReport('{"items":20,"elapsedMs":1,"warmup":{"items":30}}', 20, 30),
    ).toThrow(/invalid report/);
  });
});
