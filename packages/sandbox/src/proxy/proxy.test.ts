import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { startMessagesServer } from "@agentboard/testkit/messages-server";
import { afterAll, describe, expect, it } from "vitest";
import { needsGlobalAdmin, isPrivateAddress, parsePolicy } from "../policy.js";
import { decide, matchEntry } from "./egress.js";
import { MODEL_PROXY_KEY, ModelProxy } from "./model.js";

const dir = mkdtempSync(path.join(tmpdir(), "agentboard-proxy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const resolveTo = (addresses: string[]) => async () => addresses;

describe("the egress proxy's decisions", () => {
  it("allowlist: listed hosts only, ports as listed (80 and 443 without one), wildcards for subdomains", async () => {
    const rules = { mode: "allowlist" as const, allowlist: ["registry.npmjs.org", "*.example.com", "api.test:8443"] };
    const pub = resolveTo(["93.184.215.14"]);
    expect((await decide(rules, "registry.npmjs.org", 443, pub)).allowed).toBe(true);
    expect((await decide(rules, "registry.npmjs.org", 22, pub)).allowed).toBe(false);
    expect((await decide(rules, "cdn.example.com", 443, pub)).allowed).toBe(true);
    expect((await decide(rules, "example.com", 443, pub)).allowed).toBe(false);
    expect((await decide(rules, "api.test", 8443, pub)).allowed).toBe(true);
    expect((await decide(rules, "api.test", 443, pub)).allowed).toBe(false);
    expect(await decide(rules, "evil.org", 443, pub)).toMatchObject({ allowed: false, detail: "not on the project's allowlist" });
    expect(await decide(null, "registry.npmjs.org", 443, pub)).toMatchObject({ allowed: false });
  });

  it("open: any public host; loopback, private and link-local refused unless an exact entry names the host", async () => {
    const open = { mode: "open" as const, allowlist: ["db.internal:5432", "*.corp"] };
    expect((await decide(open, "example.org", 443, resolveTo(["93.184.215.14"]))).allowed).toBe(true);
    for (const address of ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.20.0.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1"]) {
      expect((await decide(open, "rebind.example.org", 443, resolveTo([address]))).allowed, address).toBe(false);
    }
    expect((await decide(open, "127.0.0.1", 5432, resolveTo([]))).allowed).toBe(false);
    // A name that resolves to a public and a private address is refused too.
    expect((await decide(open, "mixed.example.org", 443, resolveTo(["93.184.215.14", "10.0.0.1"]))).allowed).toBe(false);
    expect(await decide(open, "db.internal", 5432, resolveTo(["10.0.0.5"]))).toMatchObject({ allowed: true, detail: "10.0.0.5" });
    expect((await decide(open, "git.corp", 443, resolveTo(["10.0.0.6"]))).allowed).toBe(false);
    expect(matchEntry(["[::1]:8080"], "::1", 8080)).toMatchObject({ exact: true });
  });

  it("knows private addresses", () => {
    expect(["127.0.0.5", "10.0.0.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "fe80::1"].every(isPrivateAddress)).toBe(true);
    expect(["8.8.8.8", "172.32.0.1", "2606:4700::1111", "100.128.0.1"].some(isPrivateAddress)).toBe(false);
  });
});

describe("sandbox policies", () => {
  it("default to confined: setup open, everything else off", () => {
    expect(parsePolicy(null)).toMatchObject({
      unconfined: false,
      network: { setup: "open", hooks: "off", agent: "off", checks: "off" },
      allowlist: [],
      secrets: [],
    });
  });
  it("refuse the runner's own variables as secrets, and bad hosts", () => {
    expect(() => parsePolicy({ secrets: ["ANTHROPIC_API_KEY"] })).toThrow(/runner's own/);
    expect(() => parsePolicy({ allowlist: ["http://x"] })).toThrow(/host/);
  });
  it("need the server's admin to run unconfined or reach a local address", () => {
    expect(needsGlobalAdmin({ unconfined: true })).toMatch(/unconfined/);
    expect(needsGlobalAdmin({ allowlist: ["localhost:3000"] })).toMatch(/local address/);
    expect(needsGlobalAdmin({ allowlist: ["10.0.0.1"] })).toMatch(/local address/);
    expect(needsGlobalAdmin({ allowlist: ["registry.npmjs.org"], network: { setup: "open" } })).toBeNull();
  });
});

function post(socketPath: string, p: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: p, method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("the model proxy", () => {
  it("adds the key, forwards the Messages API only, and drops what the client sent as credentials", async () => {
    const upstream = await startMessagesServer({ apiKey: "sk-real", script: [{ text: "hi" }] });
    const proxy = new ModelProxy({ socketPath: path.join(dir, "model.sock"), baseURL: upstream.url, apiKey: "sk-real" });
    await proxy.listen();
    try {
      const body = JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "hello" }] });
      const ok = await post(
        path.join(dir, "model.sock"),
        "/v1/messages",
        { "x-api-key": MODEL_PROXY_KEY, authorization: "Bearer stolen", "anthropic-version": "2023-06-01" },
        body,
      );
      expect(ok.text).not.toContain("error");
      expect(ok.status).toBe(200);
      expect(ok.text).toContain("hi");
      expect(upstream.requests[0]?.headers["x-api-key"]).toBe("sk-real");
      expect(upstream.requests[0]?.headers.authorization).toBeUndefined();
      const other = await post(path.join(dir, "model.sock"), "/v1/files", {}, "{}");
      expect(other.status).toBe(404);
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
