// Bundles the instance (main + cli) with esbuild into dist/main.js and dist/cli.js, run with plain
// `node` in production: no TypeScript loader (tsx costs ~70 MB of RSS) and one file to load instead
// of hundreds of modules. Development and tests keep running the sources through tsx.
import { build } from "esbuild";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_BUNDLE_OPTIONS, writeInputHashes, zodEnglishOnly } from "../../../infra/build/esbuild-shared.mjs";

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
// minified as the worker's bundle (NODE_BUNDLE_OPTIONS): 122 → 118 MB idle RSS from minifying alone
const result = await build({
  ...NODE_BUNDLE_OPTIONS,
  absWorkingDir: root,
  entryPoints: { main: "src/main.ts", cli: "src/cli.ts" },
  outdir: "dist",
  splitting: true,
  plugins: [pgNodeStreams, zodEnglishOnly],
});
// the bundle needs no TypeScript loader: plain node in the CLI's hashbang
const cli = path.join(root, "dist/cli.js");
writeFileSync(cli, readFileSync(cli, "utf8").replace(/^#!.*\n/, "#!/usr/bin/env node\n"));
writeInputHashes(root, result.metafile, path.join(root, "dist"), [fileURLToPath(import.meta.url)]);
console.log(`built ${path.relative(process.cwd(), path.join(root, "dist"))}/main.js and cli.js`);
