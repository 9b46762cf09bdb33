import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenApi } from "../http/handler.js";
import { seedRepo, startTestApi, type TestApi } from "../testing/harness.js";

const run = promisify(execFile);
const doc = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../docs/rest-api.md");

/** The `sh` blocks of a Markdown file, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}

/** docs/rest-api.md's curl walk-through, run as written against a fresh server. */
describe("the curl examples of docs/rest-api.md", () => {
  let api: TestApi;
  let http: Awaited<ReturnType<typeof listenApi>>;

  beforeAll(async () => {
    api = await startTestApi("sqlite");
    http = await listenApi(api.core);
  });
  afterAll(async () => {
    await http.close();
    await api.close();
  });

  it("run in order and show what the page says they show", async () => {
    const blocks = shellBlocks(readFileSync(doc, "utf8"));
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const script = ["set -euo pipefail", ...blocks].join("\n");
    const { stdout } = await run("bash", ["-c", script], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AGENTBOARD_SERVER: http.url,
        AGENTBOARD_TOKEN: api.adminToken,
        AGENTBOARD_REPO: seedRepo(api, "app"),
      },
      timeout: 60_000,
    });
    expect(stdout).toContain('"status":"ok"');
    expect(stdout).toContain("Say hello");
    expect(stdout).toMatch(/^running$/m);
    expect(stdout).toMatch(/^succeeded$/m);
    expect(stdout).toMatch(/^409$/m);
    expect(stdout).toContain("event: run.succeeded");
    expect(stdout).not.toMatch(/^id: [12]$/m);
    expect(stdout).toMatch(/^4 command\.output$/m);
    expect(stdout).toMatch(/^NOT_CANCELLABLE$/m);
    const runs = await api.admin.run.list({ workspaceId: (await api.admin.workspace.list())[0]!.id });
    expect(runs.items.map((r) => r.status)).toEqual(["succeeded"]);
  });
});
