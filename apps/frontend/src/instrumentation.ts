/**
 * Next.js instrumentation hook: runs once when a server process starts. The BullMQ consumers live
 * inside the Node.js server process (never in the edge runtime), so they are imported dynamically.
 */
export async function register(): Promise<void> {
  // NEXT_RUNTIME is inlined by Next at build time (not configuration), so this check stays here
  if (process.env.NEXT_RUNTIME === "nodejs") {
    // Prisma's query compiler is a 4 MB WebAssembly module: V8's optimising tier (TurboFan) keeps
    // tens of MB of RSS for it, for no measurable gain (the compiler runs once per query shape;
    // the hot ingest and list paths are raw SQL). Baseline tier (Liftoff) only, as the instance
    // does; must run before the first Prisma client compiles the module (this hook runs first).
    const { setFlagsFromString } = await import("node:v8");
    setFlagsFromString("--liftoff-only");
    const { startConsumers } = await import("./server/queues/start-consumers.ts");
    await startConsumers();
  }
}
