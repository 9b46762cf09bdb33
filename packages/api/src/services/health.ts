import type { Deps } from "./deps.js";

export const VERSION = "0.1.0";

export async function checkHealth(deps: Deps) {
  await deps.db.prisma.$queryRawUnsafe("SELECT 1");
  return { status: "ok" as const, db: deps.db.provider, version: VERSION };
}
