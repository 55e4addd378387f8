// Bundles the instance (main + cli) with esbuild into dist/main.js and dist/cli.js, run with plain
// `node` in production: no TypeScript loader (tsx costs ~70 MB of RSS) and one file to load instead
// of hundreds of modules. Development and tests keep running the sources through tsx.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
// zod with its English messages only (the worker's bundle does the same)
import { zodEnglishOnly } from "../../worker/scripts/build.mjs";

/**
 * pg picks its socket implementation at load time (lib/stream.js): on a runtime without
 * `navigator` (Node 20) it probes for Cloudflare Workers with `new Response(…)`, and touching the
 * global Response makes Node load its fetch implementation (undici): about 2 MB of idle RSS (99 vs
 * 101 MB) for an instance that never calls fetch at idle. The bundle only runs on Node, so
 * the probe is replaced by Node's socket functions. Fails the build if pg's file no longer has the probe.
 */
const pgNodeStreams = {
  name: "pg-node-streams",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const src = readFileSync(args.path, "utf8");
      const probe = "const { getStream, getSecureStream } = getStreamFuncs()";
      if (!src.includes(probe)) throw new Error(`pg-node-streams: ${args.path} no longer calls getStreamFuncs(); check pg's runtime probe`);
      return { contents: src.replace(probe, "const { getStream, getSecureStream } = getNodejsStreamFuncs()"), loader: "js" };
    });
  },
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
rmSync(path.join(root, "dist"), { recursive: true, force: true });
const result = await build({
  metafile: true,
  absWorkingDir: root,
  entryPoints: { main: "src/main.ts", cli: "src/cli.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  legalComments: "none",
  // minified (names kept, for error and class names in logs), as the worker's bundle: an idle instance
  // holds its whole source and the functions' scope data; 122 → 118 MB idle RSS from minifying alone
  minify: true,
  keepNames: true,
  logLevel: "warning",
  plugins: [pgNodeStreams, zodEnglishOnly],
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
// the bundle needs no TypeScript loader: plain node in the CLI's hashbang
const cli = path.join(root, "dist/cli.js");
writeFileSync(cli, readFileSync(cli, "utf8").replace(/^#!.*\n/, "#!/usr/bin/env node\n"));
// every source file of the bundle with its content hash (and package-lock.json's, for the dependencies),
// so a starter can tell whether the bundle still matches the sources (mtimes change on every
// `prisma generate`, contents do not)
const sha = (f) =>
  createHash("sha256")
    .update(readFileSync(path.resolve(root, f)))
    .digest("hex");
const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes("node_modules/"));
inputs.push("../../package-lock.json");
writeFileSync(path.join(root, "dist/inputs.json"), JSON.stringify(Object.fromEntries(inputs.map((f) => [f, sha(f)])), null, 1));
console.log(`built ${path.relative(process.cwd(), path.join(root, "dist"))}/main.js and cli.js`);
