/**
 * Next.js instrumentation hook: runs once when a server process starts. The BullMQ consumers live
 * inside the Node.js server process (never in the edge runtime), so they are imported dynamically.
 */
export async function register(): Promise<void> {
  // NEXT_RUNTIME is inlined by Next at build time (not configuration), so this check stays here
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { startConsumers } = await import("./server/queues/start-consumers.ts");
    await startConsumers();
  }
}
