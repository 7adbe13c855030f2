/**
 * Several items on one connection (pipelined), name collisions, hostile names, and a
 * server that stores nothing.
 */
import { randomBytes } from "node:crypto";
import { lstat, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { toPlainObject } from "../../src/codecs/to-plain-object.js";
import { FrameType } from "../../src/protocol/constants.js";
import type { SentItem } from "../../src/transfer/client.js";
import {
  RawPeer,
  connectClient,
  expectServerHealthy,
  listDir,
  makeTempDir,
  plainDictItem,
  plainFileItem,
  preamble,
  readReceipt,
  sha256,
  startServer,
  storedFiles,
  tempFiles,
  useResources,
} from "./helpers.js";

const resources = useResources();

function bytesSource(data: Buffer): Readable {
  return Readable.from([data]);
}

describe("pipelining", () => {
  it("many items sent without awaiting settle in order with matching receipts", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    const payloads = Array.from({ length: 12 }, (_, i) => randomBytes(i * 20_000 + i));
    const pending: Promise<SentItem>[] = [];
    payloads.forEach((data, i) => {
      const encrypt = i % 2 === 1;
      if (i % 3 === 0) {
        pending.push(
          client.sendDict(
            { index: i, hex: data.toString("hex").slice(0, 64) },
            {
              format: (["json", "msgpack", "xml"] as const)[i % 3 === 0 ? (i / 3) % 3 : 0]!,
              name: `dict-${i}`,
              encrypt,
            },
          ),
        );
      } else {
        pending.push(
          client.sendStream(bytesSource(data), {
            name: `file-${i}.bin`,
            size: data.length,
            encrypt,
          }),
        );
      }
    });
    const settledOrder: number[] = [];
    pending.forEach((p, i) => void p.then(() => settledOrder.push(i)));
    const sent = await Promise.all(pending);
    await client.close();

    expect(sent.map((s) => s.id)).toEqual(payloads.map((_, i) => i + 1));
    expect(settledOrder).toEqual(payloads.map((_, i) => i));
    expect(ts.items.map((item) => item.id)).toEqual(payloads.map((_, i) => i + 1));
    for (const [i, s] of sent.entries()) {
      expect(s.receipt.sha256).toBe(s.sha256);
      if (s.kind === "file") {
        expect(s.sha256).toBe(sha256(payloads[i]!));
        const saved = await readFile(path.join(ts.saveDir!, s.receipt.savedAs!));
        expect(saved.equals(payloads[i]!)).toBe(true);
      }
    }
  });

  it("a raw peer sending several items in one write gets RECEIPTs 1, 2, 3 in order", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    const a = randomBytes(70_000);
    const b = Buffer.from('{"b":[1,2,3]}');
    const c = randomBytes(3);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainFileItem(1, "a.bin", a, { chunkSize: 30_000 }),
        plainDictItem(2, "b", "json", b),
        plainFileItem(3, "c.bin", c, { size: null }),
      ]),
    );
    peer.end();
    await peer.waitClosed();
    expect(peer.parseError).toBeUndefined();
    const answers = peer.answers();
    expect(answers.map((f) => f.type)).toEqual([
      FrameType.RECEIPT,
      FrameType.RECEIPT,
      FrameType.RECEIPT,
    ]);
    const receipts = answers.map((f) => readReceipt(f));
    expect(receipts.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(receipts.map((r) => r.body.sha256)).toEqual([sha256(a), sha256(b), sha256(c)]);
    expect(receipts.map((r) => r.body.savedAs)).toEqual(["a.bin", "b.json", "c.bin"]);
  });

  // GbClient documents: "Items are sent in the order they are given". sendFile awaits a
  // stat() before it takes its item id, so a sendDict called right after it overtakes it.
  it("sendFile followed at once by sendDict keeps the call order on the wire", async () => {
    const ts = await startServer(resources);
    const dir = await makeTempDir(resources);
    const filePath = path.join(dir, "first.txt");
    await writeFile(filePath, "I was called first");
    const client = await connectClient(resources, ts);
    const first = client.sendFile(filePath);
    const second = client.sendDict({ second: true }, { format: "json", name: "second" });
    const [f, d] = await Promise.all([first, second]);
    await client.close();
    expect(ts.items.map((i) => i.name)).toEqual(["first.txt", "second"]);
    expect([f.id, d.id]).toEqual([1, 2]);
  });
});

describe("names", () => {
  it("collisions are numbered and nothing is overwritten", async () => {
    const ts = await startServer(resources);
    // A file already in the save directory is never replaced.
    await writeFile(path.join(ts.saveDir!, "report.pdf"), "original");
    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    const sends: Promise<SentItem>[] = [];
    for (let i = 0; i < 4; i++) {
      sends.push(
        client.sendStream(bytesSource(Buffer.from(`notes ${i}`)), {
          name: "notes.txt",
          size: null,
          encrypt: i === 2,
        }),
      );
    }
    sends.push(
      client.sendStream(bytesSource(Buffer.from("new report")), { name: "report.pdf", size: 10 }),
    );
    sends.push(client.sendStream(bytesSource(Buffer.from("r1")), { name: "README", size: 2 }));
    sends.push(client.sendStream(bytesSource(Buffer.from("r2")), { name: "README", size: 2 }));
    sends.push(client.sendDict({ n: 1 }, { format: "json", name: "data" }));
    sends.push(client.sendDict({ n: 2 }, { format: "msgpack", name: "data.xml" }));
    sends.push(client.sendStream(bytesSource(Buffer.from("{}")), { name: "data.json", size: 2 }));
    const sent = await Promise.all(sends);
    await client.close();

    expect(sent.map((s) => s.receipt.savedAs)).toEqual([
      "notes.txt",
      "notes-1.txt",
      "notes-2.txt",
      "notes-3.txt",
      "report-1.pdf",
      "README",
      "README-1",
      "data.json",
      "data-1.json",
      "data-2.json",
    ]);
    for (let i = 0; i < 4; i++) {
      const name = i === 0 ? "notes.txt" : `notes-${i}.txt`;
      expect(await readFile(path.join(ts.saveDir!, name), "utf8")).toBe(`notes ${i}`);
    }
    expect(await readFile(path.join(ts.saveDir!, "report.pdf"), "utf8")).toBe("original");
    expect(await readFile(path.join(ts.saveDir!, "report-1.pdf"), "utf8")).toBe("new report");
  });

  it("a symbolic link planted in the save directory is never followed or replaced", async () => {
    const ts = await startServer(resources);
    const outside = path.join(ts.root, "outside.txt");
    await writeFile(outside, "untouched");
    await symlink(outside, path.join(ts.saveDir!, "target.txt"));
    const client = await connectClient(resources, ts);
    const sent = await client.sendStream(bytesSource(Buffer.from("attack")), {
      name: "target.txt",
      size: 6,
    });
    await client.close();
    expect(sent.receipt.savedAs).toBe("target-1.txt");
    expect(await readFile(outside, "utf8")).toBe("untouched");
    expect((await lstat(path.join(ts.saveDir!, "target.txt"))).isSymbolicLink()).toBe(true);
  });

  // [V-NAME]: only the last path component, control/reserved/invisible characters replaced
  // or removed, leading dots and spaces removed, at most 200 UTF-8 bytes, Windows device
  // names prefixed with "_", a fallback when nothing is left.
  const HOSTILE_FILE_NAMES: readonly [name: string, expected: string][] = [
    ["../../etc/passwd", "passwd"],
    ["..", "file"],
    [".", "file"],
    ["....", "file"],
    [".hidden", "hidden"],
    [". .hidden", "hidden"],
    ["a/b\\c", "c"],
    ["/", "file"],
    ["dir/", "file"],
    ["C:\\Windows\\System32\\evil.dll", "evil.dll"],
    ["x\u0000y\u001fz\u007f.txt", "x_y_z_.txt"],
    ["bell\u0007\r\n.txt", "bell___.txt"],
    ["c1\u0085\u009b.txt", "c1__.txt"],
    ['a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"],
    ["\u202egnp.exe", "gnp.exe"],
    ["zero\u200bwidth\ufeff", "zerowidth"],
    ["CON", "_CON"],
    ["con.txt", "_con.txt"],
    ["NUL.tar.gz", "_NUL.tar.gz"],
    ["lpt1", "_lpt1"],
    ["", "file"],
    ["   ", "file"],
    ["trailing. ", "trailing"],
    ["é".repeat(300), "é".repeat(100)],
    [`${"x".repeat(1020)}.txt`, `${"x".repeat(196)}.txt`],
  ];

  it("hostile file names never write outside the save dir and never make a dot-file", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    const sent = await Promise.all(
      HOSTILE_FILE_NAMES.map(([name], i) =>
        client.sendStream(bytesSource(Buffer.from(`content ${i}`)), {
          name,
          size: null,
          encrypt: i % 2 === 0,
        }),
      ),
    );
    await client.close();

    // The temp root holds the save dir and nothing else: nothing escaped it.
    expect(await listDir(ts.root)).toEqual(["save"]);
    const entries = await listDir(ts.saveDir!);
    expect(entries).toHaveLength(HOSTILE_FILE_NAMES.length);
    for (const entry of entries) {
      expect(entry.startsWith(".")).toBe(false);
      expect(entry).not.toMatch(/[\u0000-\u001f\u007f-\u009f<>:"|?*\\/]/);
      expect(Buffer.byteLength(entry, "utf8")).toBeLessThanOrEqual(210);
      expect((await lstat(path.join(ts.saveDir!, entry))).isFile()).toBe(true);
    }
    for (const [i, s] of sent.entries()) {
      const savedAs = s.receipt.savedAs!;
      expect(path.basename(savedAs)).toBe(savedAs);
      expect(await readFile(path.join(ts.saveDir!, savedAs), "utf8")).toBe(`content ${i}`);
      expect(ts.items[i]!.savedPath).toBe(path.join(ts.saveDir!, savedAs));
    }
    // The exact mapping, modulo the "-N" suffix collisions add (three names fall back to "file").
    const fileFallbacks = [
      "file",
      "file-1",
      "file-2",
      "file-3",
      "file-4",
      "file-5",
      "file-6",
      "file-7",
    ];
    let fallback = 0;
    const expected = HOSTILE_FILE_NAMES.map(([, want]) =>
      want === "file" ? fileFallbacks[fallback++]! : want,
    );
    const hidden = expected.indexOf("hidden");
    expected[expected.indexOf("hidden", hidden + 1)] = "hidden-1";
    expect(sent.map((s) => s.receipt.savedAs)).toEqual(expected);
  });

  it("hostile dictionary names are stored as <safe stem>.json inside the save dir", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const cases: [string, string][] = [
      ["../../x.xml", "x.json"],
      ["..", "dictionary.json"],
      [".bashrc", "bashrc.json"],
      ["CON.xml", "_CON.json"],
      ["a/b\\c.msgpack", "c.json"],
      ["", "dictionary-1.json"],
      ["evil\u0000name", "evil_name.json"],
    ];
    const sent = await Promise.all(
      cases.map(([name], i) => client.sendDict({ i }, { format: "json", name })),
    );
    await client.close();
    expect(sent.map((s) => s.receipt.savedAs)).toEqual(cases.map(([, want]) => want));
    expect(await listDir(ts.root)).toEqual(["save"]);
  });

  it("[K-NAME] a client cuts a name over 1024 bytes; [J-STRING] a server refuses one with MALFORMED_MESSAGE", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    for (const length of [1024, 1025, 5000]) {
      await expect(
        client.sendStream(bytesSource(Buffer.from("x")), { name: "n".repeat(length), size: 1 }),
      ).resolves.toMatchObject({ name: "n".repeat(1024) });
    }
    await client.close();
    expect((await storedFiles(ts.saveDir!)).sort()).toEqual([
      "n".repeat(200),
      `${"n".repeat(200)}-1`,
      `${"n".repeat(200)}-2`,
    ]);

    // A peer that sends 1025 bytes anyway breaks the protocol.
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([preamble(), plainFileItem(1, "n".repeat(1025), Buffer.from("x"))]),
    );
    await peer.waitClosed();
    const failure = await ts.waitFailure((f) => f.code === "MALFORMED_MESSAGE");
    expect(failure.id).toBeUndefined();
    await ts.waitNoConnections();
    expect(await storedFiles(ts.saveDir!)).toHaveLength(3);
    expect(await tempFiles(ts.saveDir!)).toEqual([]);
    await expectServerHealthy(resources, ts);
  });
});

describe("saveDir: null", () => {
  it("stores nothing but still returns receipts with savedAs null", async () => {
    const ts = await startServer(resources, { save: false });
    expect(ts.saveDir).toBeNull();
    expect(ts.server.saveDir).toBeNull();
    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    const data = randomBytes(150_000);
    const sent = await Promise.all([
      client.sendDict({ a: 1 }, { format: "xml", name: "d" }),
      client.sendStream(bytesSource(data), { name: "f.bin", size: data.length, encrypt: true }),
      client.sendStream(bytesSource(data), { name: "g.bin", size: null }),
    ]);
    await client.close();
    for (const s of sent) {
      expect(s.receipt.savedAs).toBeNull();
      expect(s.receipt.sha256).toBe(s.sha256);
    }
    expect(sent[1].sha256).toBe(sha256(data));
    expect(ts.items.map((i) => [i.savedAs, i.savedPath])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
    expect(toPlainObject(ts.items[0]!.value!)).toEqual({ a: 1 });
    expect(ts.items[1]!.preview).toEqual(data.subarray(0, 4096));
    expect(await listDir(ts.root)).toEqual([]);
  });
});
