import { access } from "node:fs/promises";

/** True when `file` exists (any kind of entry). */
export async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
