import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance } from "fastify";
import { INSTANCE_API_PREFIX, ZSetDeviceDictionaryRequestSchema, ZSetDeviceHealthRequestSchema } from "@magma/protocol";
import { requireAdmin } from "../../auth/authenticate-token.ts";
import type { InstanceContext } from "../../context.ts";
import { getDeviceDictionary } from "../../devices/get-device-dictionary.ts";
import { setDeviceDictionary } from "../../devices/set-device-dictionary.ts";
import { setDeviceHealth } from "../../devices/set-device-health.ts";
import { parseOr400 } from "../params.ts";

const P = INSTANCE_API_PREFIX;

/**
 * Device administration routes (LAVA api/v0.2 devices), superuser token required:
 *   GET  devices/<hostname>/dictionary/   → {hostname, device_type, dictionary, device_type_defaults, rendered}
 *   PUT  devices/<hostname>/dictionary/   body {dictionary: {...}} (JSON) or the YAML text itself
 *     (Content-Type text/plain or application/yaml) → 200 as GET
 *     1. no token → 401; 2. not a superuser → 403; 3. unknown device → 404;
 *     4. a bad key (own or once merged with the type defaults) → 400 naming it
 *   POST devices/<hostname>/set_health/   body {health: Good|Unknown|Looping|Bad|Maintenance|Retired (any case), reason?}
 *     → 200 {message, hostname, previous, health, changed}; 400 for an unknown health name
 */
export function registerRestDeviceRoutes(app: FastifyInstance, ctx: InstanceContext): void {
  for (const type of ["text/plain", "application/yaml", "application/x-yaml", "text/yaml"]) {
    if (!app.hasContentTypeParser(type)) app.addContentTypeParser(type, { parseAs: "string" }, (_req, body, done) => done(null, body));
  }
  const admin = (headers: IncomingHttpHeaders) => requireAdmin(ctx.db, headers);

  app.get<{ Params: { hostname: string } }>(`${P}/devices/:hostname/dictionary/`, async (req) => {
    await admin(req.headers);
    return getDeviceDictionary(ctx.db, req.params.hostname);
  });

  app.put<{ Params: { hostname: string } }>(`${P}/devices/:hostname/dictionary/`, async (req) => {
    const user = await admin(req.headers);
    const dictionary = typeof req.body === "string" ? req.body : parseOr400(ZSetDeviceDictionaryRequestSchema, req.body).dictionary;
    req.log.info({ device: req.params.hostname, by: user.username }, "set device dictionary");
    return setDeviceDictionary({ db: ctx.db, logger: ctx.logger, user, hostname: req.params.hostname, dictionary });
  });

  app.post<{ Params: { hostname: string } }>(`${P}/devices/:hostname/set_health/`, async (req) => {
    const user = await admin(req.headers);
    const { health, reason } = parseOr400(ZSetDeviceHealthRequestSchema, req.body);
    req.log.info({ device: req.params.hostname, by: user.username, health }, "set device health");
    const r = await setDeviceHealth({ ctx, user, hostname: req.params.hostname, health, reason });
    return { message: `Device '${r.hostname}' health set to ${r.health}`, ...r };
  });
}
