import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { defineConfig } from "@playwright/test";
import { CHROMIUM, E2E } from "./e2e/support/env";

/**
 * End-to-end tests in Debian's Chromium (the Playwright browser download is not reachable
 * here) against the production build: `npm run test:e2e` builds first, then this starts the
 * compiled custom server (`node apps/web/dist/server.js`, as `npm start` does) in production
 * mode on a fresh data directory with a fixed admin token. Tests that need a runner or a
 * restart start their own processes.
 */
export default defineConfig({
  testDir: "e2e",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  // One server, one database: tests share it, so they run one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: E2E.baseURL,
    browserName: "chromium",
    launchOptions: { executablePath: CHROMIUM.executablePath, args: CHROMIUM.args },
    viewport: { width: 1440, height: 900 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  webServer: {
    command: `rm -rf "${E2E.dataDir}" && exec node apps/web/dist/server.js`,
    url: `${E2E.baseURL}/api/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      NODE_ENV: "production",
      NODE_OPTIONS: "",
      NEXT_TELEMETRY_DISABLED: "1",
      HOST: "127.0.0.1",
      PORT: String(E2E.port),
      AGENTBOARD_DATA_DIR: E2E.dataDir,
      AGENTBOARD_ADMIN_TOKEN: E2E.adminToken,
      // The tests' repositories are made in the system's temporary directory.
      AGENTBOARD_REPO_ROOTS: realpathSync(tmpdir()),
      // Runs are executed by runners the tests start themselves, with their own settings.
      AGENTBOARD_LOCAL_RUNNER: "0",
    },
  },
});
