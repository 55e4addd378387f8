// Plain JavaScript on purpose: a next.config.ts makes every `next start` load Next's SWC binary
// (a 24 MB native module) just to transpile this file; an .mjs config is read as is.

/** @type {import("next").NextConfig} */
const config = {
  // workspace packages are shipped as TypeScript source
  transpilePackages: ["@magma/db", "@magma/protocol"],
  // Node-only drivers stay plain requires on the server (not bundled)
  serverExternalPackages: ["@node-rs/argon2", "pg", "@prisma/adapter-pg", "@prisma/client", "bullmq", "ioredis", "pino", "prom-client"],
  poweredByHeader: false,
  experimental: {
    // each page's server code is loaded on its first request instead of all pages at start (idle RSS
    // −12 MB; the first request of a page pays its module load once)
    preloadEntriesOnStart: false,
  },
};
export default config;
