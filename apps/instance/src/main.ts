import { setFlagsFromString } from "node:v8";
import { createInstanceDb, directQuery } from "@magma/db/instance";
import { loadConfig } from "./env.ts";
import { createLogger } from "./logger.ts";
import { buildApp } from "./app.ts";
import { LinkRefusedError, OutboundLink } from "./federation/outbound-link.ts";

/**
 * Composition root: env → logger → DB → app (HTTP + scheduler + outbox) → listen → signal handlers.
 * With MAGMA_FEDERATION_URL the lab is outbound-only: it enrolls (or loads its stored credential) and
 * keeps a link to the frontend open (federation/outbound-link.ts); a refused enrollment exits 1.
 * SIGINT/SIGTERM stop the link, the scheduler and outbox loops, close HTTP (long-polls answered), disconnect DB.
 */
async function main(): Promise<void> {
  // Prisma's query compiler is a WebAssembly module (1.7 MB, its `small` build: schema.prisma):
  // V8's optimising tier (TurboFan) keeps tens of MB of RSS for it, for no measurable gain in request time (the compiler runs once per query
  // shape); the baseline tier (Liftoff) only. Must run before the client compiles the module.
  setFlagsFromString("--liftoff-only");
  const config = loadConfig();
  const logger = createLogger(config.logLevel, undefined, { sync: false }).child({ instance: config.name });
  const db = createInstanceDb(config.databaseUrl);
  // the database answers before the instance listens; through the pg pool, so Prisma's query engine
  // loads only when a statement first needs it (an idle instance never does)
  await directQuery(db, "startup_check", "SELECT 1", []);
  const app = await buildApp({ db, config, logger });
  await app.server.listen({ host: config.host, port: config.port });
  logger.info({ url: config.publicUrl, federation: config.federationCallbackUrl ?? config.federationUrl }, "instance listening");
  let stopping = false;
  const link = config.federationUrl ? new OutboundLink(app.ctx, config.federationUrl, config.enrollmentToken) : null;
  if (link) {
    link
      .enroll()
      .then(() => link.start())
      .catch((e: Error) => {
        if (stopping) return;
        logger.fatal({ err: e.message }, e instanceof LinkRefusedError ? "cannot join the federation" : "lab link failed");
        void stop("link", 1);
      });
  }

  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown took longer than 15 s, exiting");
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      const t0 = Date.now();
      await link?.stop();
      await app.close();
      const t1 = Date.now();
      await db.$disconnect();
      logger.info({ appCloseMs: t1 - t0, dbCloseMs: Date.now() - t1 }, "stopped");
    } finally {
      process.exit(exitCode);
    }
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((e) => {
  // the logger may not exist yet (bad environment): plain stderr
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
