import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitAll } from "./changes.js";
import { cloneForRun, pushBranch } from "./clone.js";
import { GitCommandError, redactSecrets } from "./exec.js";
import { makeRepo, sh, write, type Fixture } from "./test-helpers.js";

const TOKEN = "ghp_Sup3rSecretTokenValue42";
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString("base64");

let fx: Fixture;
let bare: string;
beforeEach(() => {
  fx = makeRepo();
  bare = path.join(fx.root, "remote.git");
  sh(fx.root, "clone", "-q", "--bare", fx.repo, bare);
});
afterEach(() => fx.cleanup());

/** Everything git keeps on disk about its configuration and remotes. */
function persistedConfig(dir: string): string {
  return readFileSync(path.join(dir, ".git", "config"), "utf8");
}

/**
 * Smart-HTTP server in front of `git http-backend` that insists on our Basic token, so
 * the test proves the header is sent (not just that nothing is stored).
 */
async function startServer(projectRoot: string): Promise<{ url: string; close: () => Promise<void>; authHeaders: string[] }> {
  const authHeaders: string[] = [];
  const server = http.createServer((req, res) => {
    authHeaders.push(req.headers.authorization ?? "");
    if (req.headers.authorization !== `Basic ${BASIC}`) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="test"' }).end();
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: "1",
      REMOTE_USER: "agent",
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
      GIT_PROTOCOL: typeof req.headers["git-protocol"] === "string" ? req.headers["git-protocol"] : "",
    };
    const cgi = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "inherit"] });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on("end", () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    authHeaders,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("cloneForRun", () => {
  it("clones a file:// remote with a token that is never written to .git/config", async () => {
    const dir = path.join(fx.root, "runner", "run-1");
    const res = await cloneForRun({ url: `file://${bare}`, token: TOKEN, dir, branch: "main", newBranch: "agentboard/x-run1" });
    expect(res.path).toBe(dir);
    expect(res.branch).toBe("agentboard/x-run1");
    expect(res.baseCommit).toBe(sh(fx.repo, "rev-parse", "main"));
    expect(sh(dir, "symbolic-ref", "--short", "HEAD")).toBe("agentboard/x-run1");
    const config = persistedConfig(dir);
    expect(config).not.toContain(TOKEN);
    expect(config).not.toContain(BASIC);
    expect(config.toLowerCase()).not.toContain("extraheader");
  });

  it("sends the token as a header over HTTP, stores none of it, and pushes with it", async () => {
    const server = await startServer(fx.root);
    try {
      const dir = path.join(fx.root, "runner", "run-2");
      // Credentials in the URL are moved into the header too, and stripped from origin.
      const withCreds = server.url.replace("http://", `http://x-access-token:${TOKEN}@`);
      const res = await cloneForRun({ url: `${withCreds}/remote.git`, dir, branch: "main" });
      expect(res.url).toBe(`${server.url}/remote.git`);
      expect(server.authHeaders).toContain(`Basic ${BASIC}`);
      const config = persistedConfig(dir);
      expect(config).not.toContain(TOKEN);
      expect(config).not.toContain(BASIC);
      expect(sh(dir, "remote", "get-url", "origin")).toBe(`${server.url}/remote.git`);

      sh(dir, "switch", "-q", "-c", "agentboard/pushed");
      write(dir, "pushed.txt", "from runner\n");
      await commitAll({ dir, message: "runner work" });
      await pushBranch({ dir, branch: "agentboard/pushed", token: TOKEN });
      expect(sh(bare, "rev-parse", "agentboard/pushed")).toBe(sh(dir, "rev-parse", "HEAD"));
      expect(persistedConfig(dir)).not.toContain(TOKEN);

      // A wrong token fails fast (no prompt) and the error names neither token.
      const bad = "ghp_WrongTokenWrongToken";
      const err = await cloneForRun({
        url: `${server.url}/remote.git`,
        token: bad,
        dir: path.join(fx.root, "runner", "run-3"),
        branch: "main",
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitCommandError);
      const message = (err as Error).message;
      expect(message).not.toContain(bad);
      expect(message).not.toContain(Buffer.from(`x-access-token:${bad}`).toString("base64"));
      expect(message).toMatch(/Authentication failed|could not read Username|401/i);
    } finally {
      await server.close();
    }
  });

  it("strips URL credentials and redacts them from errors", async () => {
    const err = await cloneForRun({
      url: `http://user:${TOKEN}@127.0.0.1:9/nowhere.git`,
      dir: path.join(fx.root, "runner", "run-4"),
      branch: "main",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitCommandError);
    expect(String((err as Error).message)).not.toContain(TOKEN);
    const e = new GitCommandError(["fetch", `http://h/?t=${TOKEN}`], 128, "", `fatal: bad ${TOKEN}`, [TOKEN]);
    expect(`${e.message}${e.stderr}${e.args.join(" ")}`).not.toContain(TOKEN);
    expect(redactSecrets(`fatal: https://u:${TOKEN}@h/x and Authorization: Bearer abc.def`)).toBe("fatal: https://***@h/x and Authorization: Bearer ***");
  });

  it("refuses option-looking URLs, other transports and unsafe branches", async () => {
    const dir = path.join(fx.root, "runner", "run-5");
    await expect(cloneForRun({ url: "--upload-pack=touch /tmp/pwned", dir, branch: "main" })).rejects.toThrow(/unsafe/);
    await expect(cloneForRun({ url: "ext::sh -c touch% /tmp/pwned", dir, branch: "main" })).rejects.toThrow(/unsafe/);
    await expect(cloneForRun({ url: `file://${bare}`, dir, branch: "-b" })).rejects.toThrow(/unsafe/);
  });
});
