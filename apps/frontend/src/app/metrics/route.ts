import { metrics } from "~/server/metrics";

export const dynamic = "force-dynamic";

/** GET /metrics → the frontend's Prometheus metrics in text format (see server/metrics.ts). */
export async function GET(): Promise<Response> {
  const { registry } = metrics();
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
}
