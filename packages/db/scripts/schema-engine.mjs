// Drive Prisma's schema engine (WASM build, @prisma/schema-engine-wasm) through the
// pg driver adapter, with no native schema-engine binary and no network.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { createRequire } from "node:module";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";

const require = createRequire(import.meta.url);

/** Discrete pg config: PrismaPg.connectToShadowDb() spreads {database} over the config,
 *  which a `connectionString` would silently override (=> "shadow" == main DB). */
export function pgConfig(url) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
  };
}

/** adapter-pg (<= 8.1.0-dev) has no mapping for the internal "char" type (OID 18) and throws
 *  "Column type 'char' could not be deserialized" on the schema describer's pg_constraint.contype
 *  query. Report such columns as text (the value is already a 1-char JS string). */
export class CharAsTextClient extends pg.Client {
  query(...args) {
    const fix = (res) => {
      for (const r of Array.isArray(res) ? res : [res]) for (const f of r?.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
      return res;
    };
    const cb = args.at(-1);
    if (typeof cb === "function") return super.query(...args.slice(0, -1), (err, res) => cb(err, err ? res : fix(res)));
    const ret = super.query(...args);
    return typeof ret?.then === "function" ? ret.then(fix) : ret;
  }
}
const pool = (cfg) => new pg.Pool({ ...cfg, Client: CharAsTextClient, max: 4 });

/** adapter-pg's executeScript() splits the script on every ";" (breaks on $$-bodies, string
 *  literals, comments) and sends the pieces to random pool connections with no transaction.
 *  Send the whole script as one simple query instead, as the native engine's batch_execute does
 *  (PostgreSQL runs a multi-statement simple query as one implicit transaction). */
function wholeScript(adapter) {
  adapter.executeScript = async (script) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (e) {
      adapter.onError(e);
    }
  };
  return adapter;
}

/** Migration-aware adapter factory: main DB via PrismaPg, shadow DB either a given
 *  URL (emptied first) or a throw-away database (needs CREATEDB), dropped after the pool ends. */
export function migrationFactory(url, shadowUrl) {
  const cfg = pgConfig(url);
  const main = new PrismaPg(pool(cfg), { disposeExternalPool: true });
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => wholeScript(await main.connect()),
    async connectToShadowDb() {
      if (shadowUrl) {
        const sc = pgConfig(shadowUrl);
        const c = new pg.Client(sc);
        await c.connect();
        await c.query("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;");
        await c.end();
        return wholeScript(await new PrismaPg(pool(sc), { disposeExternalPool: true }).connect());
      }
      const name = `prisma_shadow_${crypto.randomUUID().replaceAll("-", "")}`;
      const admin = new pg.Client(cfg);
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      const a = wholeScript(await new PrismaPg(pool({ ...cfg, database: name }), { disposeExternalPool: true }).connect());
      const dispose = a.dispose.bind(a);
      a.dispose = async () => {
        await dispose();
        await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
        await admin.end();
      };
      return a;
    },
  };
}

let runtimePromise;
async function loadRuntime() {
  runtimePromise ??= (async () => {
    // Import the wasm-bindgen glue directly (the package main does `import "./x.wasm"`,
    // which needs --experimental-wasm-modules) and instantiate the .wasm ourselves.
    const runtime = await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const dir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
    const wasmPath = process.env.PRISMA_SCHEMA_ENGINE_WASM ?? path.join(dir, "schema_engine_bg.wasm");
    const mod = new WebAssembly.Module(fs.readFileSync(wasmPath));
    const instance = new WebAssembly.Instance(mod, { "./schema_engine_bg.js": runtime });
    runtime.__wbg_set_wasm(instance.exports);
    instance.exports.__wbindgen_start();
    return runtime;
  })();
  return runtimePromise;
}

export async function loadSchemaEngine({ url, shadowUrl, schemaFiles, debug }) {
  const runtime = await loadRuntime();
  const adapter = bindMigrationAwareSqlAdapterFactory(migrationFactory(url, shadowUrl));
  const engine = await runtime.SchemaEngine.new(
    { datamodels: schemaFiles?.length ? schemaFiles.map((f) => [f.path, f.content]) : undefined },
    (msg) => {
      if (debug) process.stderr.write(`[schema-engine] ${msg}\n`);
    },
    adapter,
  );
  return { engine, adapter, version: runtime.version() };
}

export function readMigrationsList(migrationsDir) {
  const lockPath = path.join(migrationsDir, "migration_lock.toml");
  const dirs = fs.existsSync(migrationsDir)
    ? fs
        .readdirSync(migrationsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  return {
    baseDir: path.resolve(migrationsDir),
    lockfile: { path: "migration_lock.toml", content: fs.existsSync(lockPath) ? fs.readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: dirs.map((d) => {
      const p = path.join(migrationsDir, d, "migration.sql");
      let content;
      try {
        content = { tag: "ok", value: fs.readFileSync(p, "utf8") };
      } catch (e) {
        content = { tag: "error", value: String(e) };
      }
      return { path: d, migrationFile: { path: "migration.sql", content } };
    }),
  };
}

export const noFilter = { externalTables: [], externalEnums: [] };
