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
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * zod bundles its error messages in some 50 languages (`z.locales`, loaded with zod whatever is
 * used); Magma only ever uses the English ones zod configures by default. The bundle keeps English
 * only: about 300 KB less source held in memory. Fails the build if zod's locale index moved.
 */
export const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => {
      const src = readFileSync(args.path, "utf8");
      const en = 'export { default as en } from "./en.js";';
      if (!src.includes(en)) throw new Error(`zod-english-only: ${args.path} no longer exports en from ./en.js`);
      return { contents: en, loader: "js", resolveDir: path.dirname(args.path) };
    });
  },
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Builds the worker bundle.
 * @param {string} outdir where main.js (and main.js.map) go; default apps/worker/dist
 * @returns {Promise<string>} the bundle's path
 */
export async function buildWorker(outdir = path.join(root, "dist")) {
  const result = await build({
    metafile: true,
    absWorkingDir: root,
    entryPoints: { main: "src/main.ts" },
    outdir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: true,
    keepNames: true,
    legalComments: "none",
    sourcemap: "linked",
    logLevel: "warning",
    plugins: [zodEnglishOnly],
    external: ["serialport", "@serialport/*", "pino", "thread-stream", "pino-pretty"],
    // CommonJS dependencies inside an ES module bundle still call require() and use __dirname
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
  // every source file of the bundle with its content hash (and package-lock.json's, for the
  // dependencies), so a starter can tell whether the bundle still matches the sources
  // (infra/demo/app-entry.ts; the same file as the instance's dist/inputs.json)
  const sha = (f) =>
    createHash("sha256")
      .update(readFileSync(path.resolve(root, f)))
      .digest("hex");
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes("node_modules/"));
  inputs.push("../../package-lock.json");
  writeFileSync(path.join(outdir, "inputs.json"), JSON.stringify(Object.fromEntries(inputs.map((f) => [f, sha(f)])), null, 1));
  return path.join(outdir, "main.js");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildWorker();
  console.log(`built ${path.relative(process.cwd(), out)}`);
}
