/**
 * The worker daemon as the bench runs it: the production bundle of apps/worker/scripts/build.mjs
 * (apps/worker/src/main.ts → one minified ES module, run with plain `node`, no tsx) like the
 * instance's `dist/main.js`. Native and worker-thread packages (serialport's bindings, pino's
 * transports) stay external and load from node_modules: the bundle is written under
 * node_modules/.cache so Node's resolution finds them.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./lib.ts";
// @ts-expect-error -- a plain ES module script without type declarations (JSDoc only)
import { buildWorker } from "../../apps/worker/scripts/build.mjs";

let built: Promise<string> | null = null;

/** Builds the worker bundle once per bench run. @returns the bundle's path (run it with `node <path>`) */
export function workerBundle(): Promise<string> {
  built ??= (async () => {
    const outdir = path.join(ROOT, "node_modules/.cache/magma-bench-worker");
    mkdirSync(outdir, { recursive: true });
    return (await buildWorker(outdir)) as string;
  })();
  return built;
}
