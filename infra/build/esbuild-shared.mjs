// What the instance's and the worker's esbuild bundles share (apps/instance/scripts/build.mjs,
// apps/worker/scripts/build.mjs): the options of a minified Node ES module bundle, the banner that
// lets CommonJS dependencies inside it call require(), zod with English messages only, and the
// content hashes a starter compares with the sources (infra/demo/app-entry.ts).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * esbuild options of both bundles: one ES module for Node 20, minified with names kept (error and
 * class names stay readable in logs; an idle process holds its whole source and the functions'
 * scope data, so minifying alone saved 4–8 MB of idle RSS), linked source maps, and a banner giving
 * CommonJS dependencies the `require`, `__filename` and `__dirname` an ES module lacks.
 */
export const NODE_BUNDLE_OPTIONS = {
  metafile: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  keepNames: true,
  legalComments: "none",
  sourcemap: "linked",
  logLevel: "warning",
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
};

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

/**
 * Writes `<outdir>/inputs.json`: every source file of the bundle (paths relative to `root`) with
 * its SHA-256, and package-lock.json's for the dependencies, so a starter can tell whether the
 * bundle still matches the sources (mtimes change on every `prisma generate`, contents do not).
 * @param {string} root the app's folder (esbuild's absWorkingDir)
 * @param {{ inputs: Record<string, unknown> }} metafile esbuild's metafile of the build
 * @param {string} outdir the bundle's folder
 * @param {string[]} [buildScripts] the app's build script(s) (absolute paths): hashed too, with this
 *   file, so a change of build options also makes the bundle stale
 */
export function writeInputHashes(root, metafile, outdir, buildScripts = []) {
  const sha = (f) =>
    createHash("sha256")
      .update(readFileSync(path.resolve(root, f)))
      .digest("hex");
  const inputs = Object.keys(metafile.inputs).filter((f) => !f.includes("node_modules/"));
  inputs.push("../../package-lock.json");
  for (const f of [fileURLToPath(import.meta.url), ...buildScripts]) inputs.push(path.relative(root, f));
  writeFileSync(path.join(outdir, "inputs.json"), JSON.stringify(Object.fromEntries(inputs.map((f) => [f, sha(f)])), null, 1));
}
