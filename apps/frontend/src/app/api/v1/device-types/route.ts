import { ZNoQuery } from "@magma/protocol";
import { env } from "~/env";
import { queryRoute } from "~/server/http/query-route";
import { getDeviceTypeAvailability } from "~/server/services/device-type-availability";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/device-types → 200 {results: [{device_type, idle, busy, bad, queue, labs: [{lab, idle,
 * busy, bad, queue}]}], unreachable: [lab], checked_at} (ZDeviceTypeAvailability): device-type
 * availability rolled up across labs, from each lab's overview (public, as the labs page).
 */
export const GET = queryRoute(ZNoQuery, (db) => getDeviceTypeAvailability({ db, timeoutMs: env().MAGMA_LAB_TIMEOUT_MS }));
