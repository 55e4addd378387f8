import { defineConfig } from "@playwright/test";

// Debian's Chromium, never `npx playwright install` (no browser downloads on these machines).
// The whole federation (2 labs with QEMU workers + frontend) is started once by global-setup.ts,
// on free ports with its own databases and BullMQ prefix; tests read its URLs from stack.json.
const executablePath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  // real QEMU boots under TCG: 7-15 s each on 2 cores, several per test
  timeout: 12 * 60_000,
  expect: { timeout: 30_000 },
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  globalSetup: "./e2e/global-setup.ts",
  outputDir: "test-results/artifacts",
  use: {
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium", viewport: { width: 1366, height: 900 } } }],
});
