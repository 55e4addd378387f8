// Bundles the worker daemon (src/main.ts) with esbuild into one ES module, dist/main.js, run with
// plain `node --optimize-for-size … dist/main.js` (WORKER_NODE_FLAGS) by systemd, docker-compose and the demo stack (the
// stack only while dist/inputs.json's hashes match the sources, else tsx): no TypeScript loader
// (tsx alone costs tens of MB of RSS), one file to load. The bench's worker rows measure this bundle
// (tests/bench/worker-bundle.ts builds it with these options).
// Minified (names kept, for error and class names in logs): an idle daemon holds its whole source
// and the functions' scope data: in a bench-like harness, 75 → 67 MB idle RSS from minifying alone.
// Native and worker-thread packages (serialport's bindings, pino's transports) stay external and
// load from node_modules, so the bundle must be written inside the repository.
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_BUNDLE_OPTIONS, writeInputHashes, zodEnglishOnly } from "../../../infra/build/esbuild-shared.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Builds the worker bundle.
 * @param {string} outdir where main.js (and main.js.map) go; default apps/worker/dist
 * @returns {Promise<string>} the bundle's path
 */
export async function buildWorker(outdir = path.join(root, "dist")) {
  const result = await build({
    ...NODE_BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: { main: "src/main.ts" },
    outdir,
    plugins: [zodEnglishOnly],
    external: ["serialport", "@serialport/*", "pino", "thread-stream", "pino-pretty"],
  });
  // the sources' hashes, as the instance's dist/inputs.json (infra/demo/app-entry.ts compares them)
  writeInputHashes(root, result.metafile, outdir, [fileURLToPath(import.meta.url)]);
  return path.join(outdir, "main.js");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildWorker();
  console.log(`built ${path.relative(process.cwd(), out)}`);
}
