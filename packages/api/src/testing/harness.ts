import type { Provider } from "@agentboard/db";
import { join } from "node:path";
import { createTestDatabase, initRepo, type TestDatabase } from "@agentboard/testkit";
import { createApiCore, type ApiCore, type ApiCoreOptions, type Caller } from "../core.js";
import { ensureBootstrapAdmin } from "../services/tokens.js";

export type { Caller };
import type { Role } from "@agentboard/db";

/**
 * A real API core on a fresh database of the given provider, with callers that go through
 * the real token resolution and authorization. For service and contract tests.
 */
export interface TestApi {
  core: ApiCore;
  db: TestDatabase;
  /** The bootstrap admin (spans every workspace). */
  admin: Caller;
  adminToken: string;
  /** A caller holding a new token of `role` in `workspaceId`. */
  as(role: Role, workspaceId: string, name?: string): Promise<Caller>;
  /** The same, with the token's secret. */
  withToken(role: Role, workspaceId: string, name?: string): Promise<{ caller: Caller; token: string }>;
  anonymous: Caller;
  /**
   * A person with an account (made through better-auth, as sign-up does) holding `role` in
   * each given workspace: a caller through their session cookie, the cookie, their id.
   */
  person(
    email: string,
    roles: Record<string, "admin" | "member" | "viewer">,
    opts?: { serverAdmin?: boolean },
  ): Promise<{ caller: Caller; cookie: string; userId: string }>;
  close(): Promise<void>;
}

export async function startTestApi(provider: Provider, opts: Partial<ApiCoreOptions> = {}): Promise<TestApi> {
  const db = await createTestDatabase(provider);
  const core = await createApiCore({ database: db.config, dataDir: db.dir, reaperEveryMs: 0, log: () => undefined, ...opts });
  const { token: adminToken } = await ensureBootstrapAdmin(core.deps, { dataDir: db.dir });
  const callerForToken = async (token: string) => core.callerFor((await core.createContext({ authorization: `Bearer ${token}` })).principal);
  const admin = await callerForToken(adminToken);
  let n = 0;
  const withToken = async (role: Role, workspaceId: string, name?: string) => {
    const { token } = await admin.token.create({ workspaceId, role, name: name ?? `${role}-${++n}` });
    return { caller: await callerForToken(token), token };
  };
  return {
    core,
    db,
    admin,
    adminToken,
    withToken,
    async as(role, workspaceId, name) {
      return (await withToken(role, workspaceId, name)).caller;
    },
    anonymous: core.callerFor(null),
    async person(email, roles, personOpts) {
      const made = await core.accounts.auth.api.signUpEmail({
        body: { name: email.split("@")[0] ?? email, email, password: "correct horse battery" },
        returnHeaders: true,
      });
      const userId = made.response.user.id;
      if (personOpts?.serverAdmin) await core.deps.db.prisma.user.update({ where: { id: userId }, data: { serverAdmin: true } });
      for (const [workspaceId, role] of Object.entries(roles)) await core.deps.db.prisma.workspaceMember.create({ data: { workspaceId, userId, role } });
      const cookie = made.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const caller = core.callerFor((await core.createContext({ cookie })).principal);
      return { caller, cookie, userId };
    },
    async close() {
      await core.close();
      await db.drop();
    },
  };
}

/** A repository inside the server's own repository root (`<data dir>/repos`). */
export function seedRepo(api: TestApi, name: string): string {
  return initRepo(join(api.db.dir, "repos", name), { "README.md": `# ${name}\n` });
}

/** A workspace with a board, a project (a real repository) and a card. */
export async function seedBoard(api: TestApi, slug = "acme") {
  const workspace = await api.admin.workspace.create({ name: slug, slug });
  const board = await api.admin.board.create({ workspaceId: workspace.id, name: "Main" });
  const project = await api.admin.project.create({ workspaceId: workspace.id, name: "app", repoPath: seedRepo(api, slug), baseBranch: "main" });
  const card = await api.admin.card.create({ boardId: board.id, projectId: project.id, title: "Fix the bug" });
  return { workspace, board, project, card };
}
