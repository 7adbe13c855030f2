/**
 * A saving server for the command-line tests that run gb-client against a real one (they
 * are integration tests: this module starts a GbServer).
 */
import { GbServer } from "../../src/transfer/server.js";
import { removeTempDirs, tempDir } from "./fake-io.js";

const servers: GbServer[] = [];

/**
 * A server on 127.0.0.1, port 0, that saves to a directory of its own (not durably: tests
 * need no fsync) with a fixed key; `options` override any of that. Closed by
 * {@link closeServers}.
 */
export async function listenSaving(
  options: Partial<Parameters<typeof GbServer.listen>[0]> = {},
): Promise<{ server: GbServer; saveDir: string }> {
  const saveDir = await tempDir("gb-cli-save-");
  const server = await GbServer.listen({
    host: "127.0.0.1",
    port: 0,
    masterKey: Buffer.alloc(32, 7),
    saveDir,
    durable: false,
    ...options,
  });
  servers.push(server);
  return { server, saveDir };
}

/** Closes every server {@link listenSaving} started, at once. */
export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
}

/** After each test: the servers {@link listenSaving} started are closed, the temporary directories removed. */
export async function cleanUp(): Promise<void> {
  await closeServers();
  await removeTempDirs();
}
