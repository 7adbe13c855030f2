/**
 * gb-client hands a tree's entries to the connection a window at a time, not all at
 * once: a tree of more entries than the window goes whole, in order, each entry with its
 * receipt, whether the server answers the tree's questions [RES-HAVE] or not (--no-resume).
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { fakeIo, tempDir, testEnv, WAIT_MS, withTimeout } from "./fake-io.js";
import { cleanUp, listenSaving } from "./saving-server.js";

/** More files than gb-client hands over ahead of the receipt it awaits. */
const FILES = 1500;

afterEach(cleanUp);

describe("gb-client sending a large tree", () => {
  it.each([
    { how: "asking what is held", extra: [] },
    { how: "with --no-resume", extra: ["--no-resume"] },
  ])(
    "a tree of more entries than the window, $how: every file stored, in order, one event each",
    async ({ extra }: { extra: string[] }) => {
      const { server, saveDir } = await listenSaving();
      const root = path.join(await tempDir("gb-cli-tree-"), "big");
      await mkdir(path.join(root, "a"), { recursive: true });
      for (let index = 0; index < FILES; index++) {
        await writeFile(path.join(root, "a", `f${String(index).padStart(4, "0")}`), `${index}`);
      }
      const fake = fakeIo(await testEnv());
      const argv = ["--port", String(server.address().port), "--file", root, "--json", ...extra];
      const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, "gb-client");
      expect(code, fake.stderr.text).toBe(ExitCode.OK);
      const events = fake.stdout.text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { event: string; id?: number; path?: string });
      const stored = events.filter((event) => event.event === "stored");
      // Every file, its folder and the top folder, each once, in the order given.
      expect(stored).toHaveLength(FILES + 2);
      expect(stored.map((event) => event.id)).toEqual(stored.map((_, index) => index + 1));
      const names = await readdir(path.join(saveDir, "big", "a"));
      expect(names).toHaveLength(FILES);
      expect(await readFile(path.join(saveDir, "big", "a", "f1499"), "utf8")).toBe("1499");
    },
  );
});
