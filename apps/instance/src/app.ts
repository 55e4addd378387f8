import type { FastifyInstance } from "fastify";
import type { InstanceDb } from "@magma/db/instance";
import type { InstanceConfig } from "./env.ts";
import type { Logger } from "./logger.ts";
import type { InstanceContext } from "./context.ts";
import { Notifier } from "./notifier.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { OutboxSender } from "./notify/outbox-sender.ts";
import { NotifyMailer } from "./notify/email.ts";
import { LiveResultsPusher } from "./notify/live-results.ts";
import { createServer } from "./http/server.ts";
import { InstanceMetrics } from "./metrics.ts";

export interface BuildAppOptions {
  db: InstanceDb;
  config: InstanceConfig;
  logger: Logger;
  /** start the scheduler and outbox loops (default true; tests of a single part may turn them off) */
  startLoops?: boolean;
}

/** A built instance: the HTTP server (not yet listening) and its started services. */
export interface InstanceApp {
  server: FastifyInstance;
  ctx: InstanceContext;
  scheduler: Scheduler;
  outbox: OutboxSender;
  liveResults: LiveResultsPusher;
  /** stops the loops, then closes the HTTP server (aborting long-polls and log streams); the DB stays open */
  close(): Promise<void>;
}

/**
 * Composes one instance: notifier, scheduler (event-driven + 5 s safety loop), outbox sender, live
 * results pusher (the test cases of Running jobs to the federation, issue 13), and the
 * Fastify server with the REST and worker APIs. The caller listens (`server.listen({port: 0})` in
 * tests) and owns the database client.
 */
export async function buildApp({ db, config, logger, startLoops = true }: BuildAppOptions): Promise<InstanceApp> {
  const metrics = new InstanceMetrics(db, { instance: config.name });
  const ctx: InstanceContext = { db, config, logger, notifier: new Notifier(), scheduler: null, outbox: null, metrics };
  const scheduler = new Scheduler(ctx);
  const outbox = new OutboxSender(ctx);
  ctx.scheduler = scheduler;
  ctx.outbox = outbox;
  ctx.mailer = new NotifyMailer(ctx);
  const liveResults = new LiveResultsPusher(ctx, config.liveResultsIntervalMs);
  ctx.liveResults = liveResults;
  const server = createServer(ctx, new AbortController());
  await server.ready();
  if (startLoops) {
    scheduler.start();
    outbox.start();
  }
  let closing: Promise<void> | null = null;
  return {
    server,
    ctx,
    scheduler,
    outbox,
    liveResults,
    close() {
      closing ??= (async () => {
        await scheduler.stop();
        await liveResults.stop();
        await outbox.stop();
        await server.close();
      })();
      return closing;
    },
  };
}
