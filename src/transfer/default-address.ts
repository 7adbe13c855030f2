/** Where a server listens, and a client connects, unless told otherwise. */
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 6688;
