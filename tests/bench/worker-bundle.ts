/**
 * The worker daemon as the bench runs it: bundled with esbuild (apps/worker/src/main.ts → one ES
 * module, run with plain `node`, no tsx) like the instance's `dist/main.js`. Native and
 * worker-thread packages (serialport's bindings, pino's transports) stay external and load from
 * node_modules: the bundle is written under node_modules/.cache so Node's resolution finds them.
 */
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./lib.ts";

let built: Promise<string> | null = null;

/** Builds the worker bundle once per bench run. @returns the bundle's path (run it with `node <path>`) */
export function workerBundle(): Promise<string> {
  built ??= (async () => {
    const outdir = path.join(ROOT, "node_modules/.cache/magma-bench-worker");
    mkdirSync(outdir, { recursive: true });
    await build({
      absWorkingDir: path.join(ROOT, "apps/worker"),
      entryPoints: { main: "src/main.ts" },
      outdir,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "warning",
      external: ["serialport", "@serialport/*", "pino", "thread-stream", "pino-pretty"],
      banner: {
        js: [
          'import { createRequire as __magmaCreateRequire } from "node:module";',
          'import { fileURLToPath as __magmaFileURLToPath } from "node:url";',
          'import { dirname as __magmaDirname } from "node:path";',
          "const require = __magmaCreateRequire(import.meta.url);",
          "const __filename = __magmaFileURLToPath(import.meta.url);",
          "const __dirname = __magmaDirname(__filename);",
        ].join("\n"),
      },
    });
    return path.join(outdir, "main.js");
  })();
  return built;
}
