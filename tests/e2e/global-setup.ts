import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, startStack } from "../../infra/demo/stack.ts";
import { freePort } from "../tools/free-port.ts";
import { STACK_FILE, type StackInfo } from "./stack-info.ts";

/**
 * Starts a complete, isolated federation for the e2e run: two labs (instance + worker; lab-a with
 * two QEMU devices for the MultiNode job, lab-b with one), the frontend, fresh databases named after a random run id, a unique BullMQ
 * prefix and free ports. Returns the teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const run = randomUUID().slice(0, 8);
  const stateDir = path.join(os.tmpdir(), `magma-e2e-${run}`);
  const stack = await startStack({
    id: `e2e_${run}`,
    labs: [
      { name: "lab-a", port: await freePort(), devices: 2, workerMetricsPort: await freePort() },
      { name: "lab-b", port: await freePort(), devices: 1, workerMetricsPort: await freePort() },
    ],
    frontendPort: await freePort(),
    pgUrl: process.env["MAGMA_TEST_DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    redisUrl: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
    queuePrefix: `magma-e2e-${run}`,
    adminToken: randomBytes(18).toString("base64url"),
    stateDir,
    dutDir: path.join(ROOT, ".magma/dut"),
    freshDatabases: true,
    onEvent: (e) => {
      if (e.event !== "started") console.log(`[stack] ${e.name} ${e.event} (code ${e.code ?? "-"}); log ${e.log}`);
    },
  });
  const info: StackInfo = {
    frontendUrl: stack.frontendUrl,
    artifactsUrl: stack.artifactsUrl,
    adminToken: stack.adminToken,
    adminPassword: stack.adminPassword,
    labs: stack.labs.map((l) => ({ name: l.name, url: l.url, workerMetricsUrl: l.workerMetricsUrl })),
    databases: stack.databases,
  };
  mkdirSync(path.dirname(STACK_FILE), { recursive: true });
  writeFileSync(STACK_FILE, JSON.stringify(info, null, 2));
  console.log(
    `[stack] up: frontend ${stack.frontendUrl}, labs ${stack.labs.map((l) => `${l.name} ${l.url}`).join(", ")}; logs in ${stateDir}/logs`,
  );
  return async () => {
    await stack.stop();
    const pg = (await import("pg")).default;
    const admin = new pg.Client({
      connectionString: process.env["MAGMA_TEST_DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    });
    await admin.connect();
    for (const url of Object.values(stack.databases)) {
      await admin.query(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
    }
    await admin.end();
  };
}
