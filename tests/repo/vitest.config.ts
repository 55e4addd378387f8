import { defineConfig } from "vitest/config";

// Checks of the repository itself (no services): fast, so they run before the slow suites.
export default defineConfig({
  test: {
    include: ["repo/**/*.test.ts"],
    root: new URL("..", import.meta.url).pathname,
    reporters: ["verbose"],
  },
});
