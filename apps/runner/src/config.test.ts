import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, helpText, loadRunnerConfig } from "./config.js";
import { parseDuration } from "./duration.js";

describe("runner configuration", () => {
  it("reads flags, falls back to the environment, and applies defaults", () => {
    const config = loadRunnerConfig({
      argv: ["--server", "http://10.0.0.5:3000/", "--concurrency", "3", "--labels", "linux, gpu", "--timeout", "45m", "--workspace", "acme,beta"],
      env: { AGENTBOARD_TOKEN: "ab_secret_token", AGENTBOARD_RUNNER_CONCURRENCY: "9", ANTHROPIC_API_KEY: "sk-x", AGENTBOARD_WORKTREES_DIR: "/srv/wt" },
    });
    expect(config).toMatchObject({
      server: "http://10.0.0.5:3000",
      token: "ab_secret_token",
      concurrency: 3,
      labels: ["linux", "gpu"],
      workspaces: ["acme", "beta"],
      agentTimeoutMs: 45 * 60_000,
      worktreesDir: "/srv/wt",
      anthropicApiKey: "sk-x",
      heartbeatMs: 10_000,
      claimWaitMs: 25_000,
      eventFlushMs: 150,
    });
  });

  it("resolves a relative worktrees directory from where npm was run", () => {
    const config = loadRunnerConfig({
      argv: ["--server", "http://h:1", "--worktrees-dir", "wt"],
      env: { AGENTBOARD_TOKEN: "ab_secret_token", INIT_CWD: "/home/me/project" },
    });
    expect(config.worktreesDir).toBe(path.resolve("/home/me/project/wt"));
  });

  it("lists every problem at once", () => {
    let err: unknown;
    try {
      loadRunnerConfig({ argv: ["--server", "ftp://x", "--concurrency", "0", "--event-flush", "2s"], env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain("server");
    expect(message).toContain("token");
    expect(message).toContain("concurrency");
    expect(message).toContain("--event-flush");
  });

  it("refuses unknown flags", () => {
    expect(() => loadRunnerConfig({ argv: ["--sever", "x"], env: {} })).toThrow(ConfigError);
  });

  it("has help for every flag", () => {
    expect(helpText()).toContain("--worktrees-dir");
    expect(helpText()).toContain("AGENTBOARD_TOKEN");
  });

  it("parses durations", () => {
    expect(parseDuration("1500")).toBe(1500);
    expect(parseDuration("2s")).toBe(2000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
    expect(parseDuration("soon")).toBeNull();
  });
});
