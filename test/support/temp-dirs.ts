import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** Temporary directories made for tests, all removed at once by {@link TempDirs.removeAll}. */
export class TempDirs {
  readonly #dirs = new Set<string>();

  /** A fresh directory under the OS temp dir, named `<prefix>XXXXXX`. */
  async make(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    this.#dirs.add(dir);
    return dir;
  }

  /** Removes every directory made so far (failures to remove are ignored). */
  async removeAll(): Promise<void> {
    const dirs = [...this.#dirs];
    this.#dirs.clear();
    await Promise.all(
      dirs.map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined)),
    );
  }
}
