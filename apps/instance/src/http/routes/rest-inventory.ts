import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, ZSetWorkerHealthRequest } from "@magma/protocol";
import { authenticateToken, requireAdmin } from "../../auth/authenticate-token.ts";
import { updateWorker } from "../../workers/worker-admin.ts";
import type { InstanceContext } from "../../context.ts";
import { getOverview, INSTANCE_VERSION, listDevices, listDeviceTypes, listWorkers } from "../../devices/list-inventory.ts";
import { pagingQuery, parseOr400 } from "../params.ts";
import { registerRestFederationRoutes } from "./rest-federation.ts";

const P = INSTANCE_API_PREFIX;

/**
 * Inventory and system routes (anonymous reads, as LAVA's IsAuthenticatedOrReadOnly):
 *   GET /api/v0.2/                 root: links to the collections
 *   GET devices/ devicetypes/ workers/   DRF pages (workers never list their token)
 *   POST workers/<hostname>/set_health/ {health, reason?} → 202 {message: "OK"} (superuser; LAVA 2025+)
 *   GET system/version/            {version};  GET system/whoami/ {user}
 *   GET magma/overview/            TInstanceOverview for the frontend's labs page
 *   GET magma/finished-jobs/, magma/jobs/<id>/federation/   reconciliation feed (rest-federation.ts)
 */
export function registerRestInventoryRoutes(app: FastifyInstance, ctx: InstanceContext): void {
  const base = `${ctx.config.publicUrl}${P}`;
  app.get(`${P}/`, async () => ({
    devices: `${base}/devices/`,
    devicetypes: `${base}/devicetypes/`,
    jobs: `${base}/jobs/`,
    system: `${base}/system/`,
    workers: `${base}/workers/`,
  }));
  const paged = <T>(path: string, load: () => Promise<T[]>) =>
    app.get(`${P}/${path}/`, async (req) => {
      const { limit, offset } = pagingQuery(req.query);
      const all = await load();
      const link = (o: number) => `${base}/${path}/?limit=${limit}&offset=${o}`;
      return {
        count: all.length,
        next: offset + limit < all.length ? link(offset + limit) : null,
        previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
        results: all.slice(offset, offset + limit),
      };
    });
  paged("devices", () => listDevices(ctx.db));
  paged("devicetypes", () => listDeviceTypes(ctx.db));
  paged("workers", () => listWorkers(ctx.db));
  // LAVA 2025+: a superuser puts a worker in Maintenance (no new jobs), back to Active, or Retired
  app.post(`${P}/workers/:hostname/set_health/`, async (req, reply) => {
    const user = await requireAdmin(ctx.db, req.headers);
    const body = parseOr400(ZSetWorkerHealthRequest, req.body, "body");
    const hostname = (req.params as { hostname: string }).hostname;
    await updateWorker(ctx, hostname, { health: body.health });
    req.log.info({ worker: hostname, health: body.health, reason: body.reason ?? null, by: user.username }, "worker health set");
    return reply.code(202).send({ message: "OK" });
  });
  app.get(`${P}/system/version/`, async () => ({ version: INSTANCE_VERSION }));
  app.get(`${P}/system/whoami/`, async (req) => ({ user: (await authenticateToken(ctx.db, req.headers))?.username ?? "" }));
  app.get(`${P}/magma/overview/`, async () => getOverview(ctx.db, ctx.config.name));
  registerRestFederationRoutes(app, ctx);
}
