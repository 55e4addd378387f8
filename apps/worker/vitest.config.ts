import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 150_000,
    // QEMU integration tests boot real DUTs under TCG: never more QEMUs than the 2 cores.
    fileParallelism: false,
  },
});
