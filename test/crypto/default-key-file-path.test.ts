import { describe, expect, it } from "vitest";
import { defaultKeyFilePath } from "../../src/crypto/key-file.js";

describe("defaultKeyFilePath", () => {
  it.each([
    ["linux", {}, "/home/ann", "/home/ann/.config/gb-transfer/key"],
    ["freebsd", {}, "/home/ann", "/home/ann/.config/gb-transfer/key"],
    ["openbsd", {}, "/home/ann", "/home/ann/.config/gb-transfer/key"],
    ["linux", { XDG_CONFIG_HOME: "/xdg" }, "/home/ann", "/xdg/gb-transfer/key"],
    [
      "linux",
      { XDG_CONFIG_HOME: "relative/dir" },
      "/home/ann",
      "/home/ann/.config/gb-transfer/key",
    ],
    ["linux", { XDG_CONFIG_HOME: "" }, "/home/ann", "/home/ann/.config/gb-transfer/key"],
    ["darwin", {}, "/Users/ann", "/Users/ann/Library/Application Support/gb-transfer/key"],
    [
      "darwin",
      { XDG_CONFIG_HOME: "/Users/ann/.xdg" },
      "/Users/ann",
      "/Users/ann/.xdg/gb-transfer/key",
    ],
    [
      "win32",
      { APPDATA: "C:\\Users\\ann\\AppData\\Roaming" },
      "C:\\Users\\ann",
      "C:\\Users\\ann\\AppData\\Roaming\\gb-transfer\\key",
    ],
    ["win32", {}, "C:\\Users\\ann", "C:\\Users\\ann\\AppData\\Roaming\\gb-transfer\\key"],
    [
      "win32",
      { APPDATA: "relative" },
      "C:\\Users\\ann",
      "C:\\Users\\ann\\AppData\\Roaming\\gb-transfer\\key",
    ],
  ] as const)("%s with %j and home %s -> %s", (platform, env, home, expected) => {
    expect(defaultKeyFilePath(env, platform, home)).toBe(expected);
  });

  it("defaults to the real environment without touching the file system", () => {
    expect(defaultKeyFilePath()).toMatch(/gb-transfer[/\\]key$/);
  });
});
