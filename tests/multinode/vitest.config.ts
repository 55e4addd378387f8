import { defineConfig } from "vitest/config";

// MultiNode on real QEMU DUTs: one instance and one worker process with two QEMU devices, started
// by the test on free ports with its own database. QEMU under TCG wants both cores: one file at a time.
export default defineConfig({
  test: {
    include: ["multinode/**/*.test.ts"],
    root: new URL("..", import.meta.url).pathname,
    fileParallelism: false,
    testTimeout: 10 * 60_000,
    hookTimeout: 3 * 60_000,
    reporters: ["verbose"],
  },
});
