import { defineConfig } from "vitest/config";

// Tests of the benchmark's own tools (clients, argument parsing) against real instance processes.
export default defineConfig({
  test: {
    include: ["bench/**/*.test.ts"],
    root: new URL("..", import.meta.url).pathname,
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["verbose"],
  },
});
