import { defineConfig } from "vitest/config";

// The fault-injection suite: real processes (labs, workers, QEMU DUTs, frontend, private Redis and
// PostgreSQL), killed and restarted on purpose. Files run one at a time (QEMU under TCG wants both
// cores); each file starts its own isolated stack. MAGMA_FAULTS_KEEP=1 keeps the state dir (logs).
export default defineConfig({
  test: {
    include: ["faults/**/*.test.ts"],
    root: new URL("..", import.meta.url).pathname,
    fileParallelism: false,
    testTimeout: 10 * 60_000,
    hookTimeout: 5 * 60_000,
    reporters: ["verbose"],
  },
});
