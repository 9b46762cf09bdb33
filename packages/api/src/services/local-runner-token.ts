import { hostname } from "node:os";
import type { Deps } from "./deps.js";
import { generateToken, hashToken, tokenPrefix } from "../auth/tokens.js";

/**
 * The token of the runner `npm start` runs beside the server: role `runner` and no
 * workspace, so it may claim and report in every workspace (including ones created
 * later) and do nothing else — not the admin token, which no child process ever gets.
 * A fresh one at each start, kept in memory only; the previous one of this host is
 * revoked, and `revoke` ends this one when the server stops.
 */
export async function mintLocalRunnerToken(deps: Deps): Promise<{ token: string; revoke(): Promise<void> }> {
  const name = `local-runner@${hostname()}`.slice(0, 100);
  await deps.db.prisma.apiToken.updateMany({ where: { name, role: "runner", workspaceId: null, revokedAt: null }, data: { revokedAt: new Date() } });
  const token = generateToken();
  const row = await deps.db.prisma.apiToken.create({
    data: { name, role: "runner", workspaceId: null, tokenHash: hashToken(token), prefix: tokenPrefix(token) },
  });
  return {
    token,
    async revoke() {
      await deps.db.prisma.apiToken.update({ where: { id: row.id }, data: { revokedAt: new Date() } });
    },
  };
}
