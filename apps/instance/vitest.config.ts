import { defineConfig } from "vitest/config";

// Integration tests each create their own PostgreSQL database and Fastify server on port 0.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
