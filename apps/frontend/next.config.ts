import type { NextConfig } from "next";

const config: NextConfig = {
  // workspace packages are shipped as TypeScript source
  transpilePackages: ["@magma/db", "@magma/protocol"],
  // Node-only drivers stay plain requires on the server (not bundled)
  serverExternalPackages: ["@node-rs/argon2", "pg", "@prisma/adapter-pg", "@prisma/client", "bullmq", "ioredis", "pino", "prom-client"],
  poweredByHeader: false,
};
export default config;
