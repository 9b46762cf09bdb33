import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAgentboardClient } from "@agentboard/client";
import { startApiProcess, type ApiProcess } from "./testing/api-process";

/**
 * The data directory on disk, with real server processes: private files, and one server
 * per SQLite database however the previous one ended.
 */
const ADMIN = "ab_test_admin_token_for_data_dirs_01";
const mode = (path: string) => statSync(path).mode & 0o777;

describe("the data directory", () => {
  const root = mkdtempSync(join(tmpdir(), "agentboard-datadir-"));
  const started: ApiProcess[] = [];
  const start = async (dataDir: string) => {
    const api = await startApiProcess({ AGENTBOARD_DATA_DIR: dataDir, AGENTBOARD_ADMIN_TOKEN: ADMIN, DATABASE_URL: "" });
    started.push(api);
    return api;
  };
  afterAll(async () => {
    for (const api of started) await api.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("is the server user's alone: the directory 0700, the database and its WAL files 0600", async () => {
    const fresh = join(root, "fresh");
    const api = await start(fresh);
    const client = createAgentboardClient({ url: api.url, token: ADMIN });
    await client.workspace.create.mutate({ name: "Private", slug: "private" }); // the WAL has something in it
    expect(mode(fresh)).toBe(0o700);
    for (const file of ["agentboard.db", "agentboard.db-wal", "agentboard.db-shm", "agentboard.db.lock"]) {
      expect({ file, mode: mode(join(fresh, file)).toString(8) }).toEqual({ file, mode: "600" });
    }
    await api.stop();

    // A directory and a database made readable to all, by an earlier version or by hand.
    const loose = join(root, "loose");
    mkdirSync(loose, { mode: 0o755 });
    chmodSync(loose, 0o755);
    writeFileSync(join(loose, "agentboard.db"), "");
    chmodSync(join(loose, "agentboard.db"), 0o644);
    await start(loose);
    expect(mode(loose)).toBe(0o700);
    expect(mode(join(loose, "agentboard.db"))).toBe(0o600);
  });

  it("has one server: a second refuses to start with a clear message, and a restart after a kill succeeds at once", async () => {
    const dir = join(root, "shared");
    const first = await start(dir);
    const second = await start(dir).catch((err: unknown) => err);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).message).toMatch(/exited with 1/);
    expect((second as Error).message).toContain(`another agentboard server is already using ${join(dir, "agentboard.db")}`);
    expect((second as Error).message).not.toMatch(/\n\s+at /); // a message, not a stack

    // Killed: nothing runs its cleanup, the kernel drops the lock with the process.
    await first.stop("SIGKILL");
    const again = await start(dir);
    const health = await fetch(`${again.url}/api/health`);
    expect(health.status).toBe(200);
  });
});
