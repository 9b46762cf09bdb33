import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's Chromium, launched as ENVIRONMENT.md says it works here. */
export const CHROMIUM = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

const port = Number(process.env.AGENTBOARD_E2E_PORT ?? 3217);

export const E2E = {
  port,
  baseURL: `http://127.0.0.1:${port}`,
  adminToken: "ab_e2e_admin_token_0123456789abcdef",
  /** Recreated empty each time the suite starts its server. */
  dataDir: join(tmpdir(), `agentboard-e2e-${port}`),
  /** The restart test's own server (it is killed and started again mid-run). */
  restartPort: port + 1,
};
