import { delimiter, resolve } from "node:path";
import { z } from "zod";

/**
 * The server's configuration, validated once. Nothing else reads process.env.
 * npm runs workspace scripts in the package folder, so relative paths are taken from
 * where npm was invoked (INIT_CWD).
 */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z.string().optional(),
  AGENTBOARD_DATA_DIR: z.string().default(".agentboard"),
  AGENTBOARD_ADMIN_TOKEN: z.string().min(16, "AGENTBOARD_ADMIN_TOKEN must be at least 16 characters").optional(),
  AGENTBOARD_LOCAL_RUNNER: z.enum(["0", "1"]).default("1"),
  /** Directories projects' repositories may be in, besides `<data dir>/repos` (separated by ":"). */
  AGENTBOARD_REPO_ROOTS: z.string().optional(),
  AGENTBOARD_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  AGENTBOARD_REAPER_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** Worktrees of finished, unmerged runs are kept this long for review, then swept. */
  AGENTBOARD_WORKTREE_MAX_AGE_HOURS: z.coerce
    .number()
    .min(0.01)
    .max(24 * 365)
    .default(168),
  /** The board's public address (https://board.example.com): cookies are Secure under https, OIDC callbacks go here. */
  AGENTBOARD_PUBLIC_URL: z.url().optional(),
  /** Signs session cookies (at least 32 characters); generated into the data directory when absent. Replicas must share it. */
  AGENTBOARD_AUTH_SECRET: z.string().min(32, "AGENTBOARD_AUTH_SECRET must be at least 32 characters").optional(),
  /** Single sign-on with an OpenID Connect provider: issuer, client id and secret (all three, or none). */
  AGENTBOARD_OIDC_ISSUER: z.url().optional(),
  AGENTBOARD_OIDC_CLIENT_ID: z.string().min(1).optional(),
  AGENTBOARD_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  AGENTBOARD_OIDC_NAME: z.string().min(1).max(60).optional(),
  /** Invitation e-mails: `smtp://user:password@host:587` (needs AGENTBOARD_PUBLIC_URL for the links). */
  AGENTBOARD_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "AGENTBOARD_SMTP_URL must be an smtp:// or smtps:// URL")
    .optional(),
  AGENTBOARD_SMTP_FROM: z.string().min(3).default("agentboard <agentboard@localhost>"),
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  INIT_CWD: z.string().optional(),
});

export type Env = z.infer<typeof schema> & { dataDir: string; repoRoots: string[] };

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  if (env.AGENTBOARD_SMTP_URL && !env.AGENTBOARD_PUBLIC_URL) {
    throw new Error("invalid configuration:\n  AGENTBOARD_SMTP_URL needs AGENTBOARD_PUBLIC_URL (the links in invitation e-mails)");
  }
  const oidc = [env.AGENTBOARD_OIDC_ISSUER, env.AGENTBOARD_OIDC_CLIENT_ID, env.AGENTBOARD_OIDC_CLIENT_SECRET];
  if (oidc.some(Boolean) && !oidc.every(Boolean)) {
    throw new Error("invalid configuration:\n  AGENTBOARD_OIDC_ISSUER, AGENTBOARD_OIDC_CLIENT_ID and AGENTBOARD_OIDC_CLIENT_SECRET go together");
  }
  const from = env.INIT_CWD ?? process.cwd();
  const repoRoots = (env.AGENTBOARD_REPO_ROOTS ?? "")
    .split(delimiter)
    .filter((p) => p.trim() !== "")
    .map((p) => resolve(from, p.trim()));
  return { ...env, dataDir: resolve(from, env.AGENTBOARD_DATA_DIR), repoRoots };
}
