import { describe, expect, it } from "vitest";
import { sandboxEnv, SYSTEM_PATH } from "./env.js";

describe("the environment of a run's processes", () => {
  const runner = {
    PATH: "/root/.nvm/bin:/usr/bin",
    HOME: "/root",
    LANG: "C.UTF-8",
    LC_TIME: "en_GB.UTF-8",
    ANTHROPIC_API_KEY: "sk-ant-key",
    AGENTBOARD_TOKEN: "ab_runner",
    AGENTBOARD_GIT_TOKEN: "ghp_x",
    SENTRY_DSN: "https://k@sentry.example/1",
    SLACK_WEBHOOK_URL: "https://hooks.slack.example/T/B/x",
    STRIPE_SK: "sk_live_x",
    NPM_TOKEN: "npm_x",
  };

  it("is an allowlist: nothing of the runner's passes unless named", () => {
    const env = sandboxEnv({ source: runner, home: "/home/agent", user: "agent", facts: { AGENTBOARD_RUN_ID: "r1" } });
    expect(env).toEqual({
      PATH: SYSTEM_PATH,
      HOME: "/home/agent",
      USER: "agent",
      LOGNAME: "agent",
      SHELL: "/bin/sh",
      TMPDIR: "/tmp",
      LANG: "C.UTF-8",
      LC_TIME: "en_GB.UTF-8",
      GIT_TERMINAL_PROMPT: "0",
      AGENTBOARD_RUN_ID: "r1",
    });
  });

  it("passes declared secrets, but never the runner's token, git token or model key", () => {
    const env = sandboxEnv({
      source: runner,
      home: "/h",
      user: "u",
      secrets: ["NPM_TOKEN", "AGENTBOARD_TOKEN", "ANTHROPIC_API_KEY", "AGENTBOARD_GIT_TOKEN", "UNSET"],
    });
    expect(env.NPM_TOKEN).toBe("npm_x");
    for (const name of ["AGENTBOARD_TOKEN", "ANTHROPIC_API_KEY", "AGENTBOARD_GIT_TOKEN", "UNSET", "SENTRY_DSN", "STRIPE_SK"])
      expect(env).not.toHaveProperty(name);
  });

  it("points every proxy variable at the sandbox's egress bridge when the phase has network", () => {
    const env = sandboxEnv({ source: {}, home: "/h", user: "u", egress: true });
    expect(env.HTTPS_PROXY).toBe("http://127.0.0.1:3128");
    expect(env.http_proxy).toBe("http://127.0.0.1:3128");
    expect(env.NO_PROXY).toContain("127.0.0.1");
  });
});
