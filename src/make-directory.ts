import { mkdir, stat } from "node:fs/promises";
import path from "node:path";

/**
 * `mkdir -p`, one level at a time, creating missing directories with `mode`.
 * Node's own `mkdir(..., { recursive: true })` spins forever on some paths (for example
 * under /proc), so it is not used.
 * @throws the file-system error of the level that could not be created.
 */
export async function makeDirectory(directory: string, mode = 0o777): Promise<void> {
  try {
    await mkdir(directory, { mode });
  } catch (error) {
    if (errnoOf(error) === "EEXIST") {
      if ((await stat(directory)).isDirectory()) return;
      throw error;
    }
    const parent = path.dirname(directory);
    if (errnoOf(error) !== "ENOENT" || parent === directory) throw error;
    await makeDirectory(parent, mode);
    await mkdir(directory, { mode }).catch((retry: unknown) => {
      if (errnoOf(retry) !== "EEXIST") throw retry;
    });
  }
}

function errnoOf(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}
