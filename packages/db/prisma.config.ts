import { defineConfig } from "prisma/config";

// Prisma 7 CLI: only `generate` (and validate/format) are used, with PRISMA_SCHEMA_ENGINE_BINARY
// pointing at a stub so nothing is downloaded. Migrations go through scripts/migrate.mjs
// (Prisma's WASM schema engine + @prisma/adapter-pg); see README "Offline migrations".
export default defineConfig({
  datasource: { url: "postgresql://localhost/unused" },
});
