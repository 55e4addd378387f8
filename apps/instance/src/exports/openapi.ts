import { z } from "zod";
import { ZErrorBodySchema } from "./openapi-schemas.ts";
import {
  ZDeviceSummary,
  ZDeviceTypeSummary,
  ZInstanceOverview,
  ZJobDetail,
  ZJobResults,
  ZJobSummary,
  ZSubmitJobRequest,
  ZSubmitJobResponse,
  ZTestCase,
  ZTestSuite,
  ZWorkerSummary,
} from "@magma/protocol";

const schemas = {
  SubmitJobRequest: ZSubmitJobRequest,
  SubmitJobResponse: ZSubmitJobResponse,
  JobSummary: ZJobSummary,
  JobDetail: ZJobDetail,
  JobResults: ZJobResults,
  TestSuite: ZTestSuite,
  TestCase: ZTestCase,
  DeviceSummary: ZDeviceSummary,
  DeviceTypeSummary: ZDeviceTypeSummary,
  WorkerSummary: ZWorkerSummary,
  InstanceOverview: ZInstanceOverview,
  Error: ZErrorBodySchema,
};

const ref = (name: keyof typeof schemas) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ "application/json": { schema } });
const page = (name: keyof typeof schemas) => ({
  type: "object",
  properties: {
    count: { type: "integer" },
    next: { type: ["string", "null"] },
    previous: { type: ["string", "null"] },
    results: { type: "array", items: ref(name) },
  },
});
const idParam = { name: "id", in: "path", required: true, schema: { type: "integer" } };
const paging = [
  { name: "limit", in: "query", schema: { type: "integer", default: 50, maximum: 1000 } },
  { name: "offset", in: "query", schema: { type: "integer", default: 0 } },
];
const err = { description: "error `{code, message}`", content: json(ref("Error")) };
const file = (type: string, what: string) => ({ description: what, content: { [type]: { schema: { type: "string" } } } });

/**
 * The OpenAPI 3.1 document of the instance's REST API (`GET /api/v0.2/openapi.json`): paths written
 * here, component schemas generated from the protocol's zod schemas (`z.toJSONSchema`), so the
 * document cannot drift from what the routes validate and answer.
 * @param serverUrl the instance's public base URL
 */
export function buildOpenApiDocument(serverUrl: string): object {
  const components = Object.fromEntries(
    Object.entries(schemas).map(([k, s]) => [k, z.toJSONSchema(s as z.ZodType, { io: "output", unrepresentable: "any" })]),
  );
  const auth = [{ token: [] }];
  return {
    openapi: "3.1.0",
    info: { title: "Magma instance REST API (LAVA api/v0.2 compatible)", version: "0.2" },
    servers: [{ url: serverUrl }],
    components: {
      schemas: components,
      securitySchemes: { token: { type: "apiKey", in: "header", name: "Authorization", description: "`Token <secret>` (LAVA's scheme)" } },
    },
    paths: {
      "/api/v0.2/jobs/": {
        get: {
          summary: "List jobs visible to the caller",
          parameters: [
            ...paging,
            ...["state", "health", "requested_device_type", "ordering"].map((n) => ({ name: n, in: "query", schema: { type: "string" } })),
          ],
          responses: { 200: { description: "page", content: json(page("JobSummary")) }, 400: err },
        },
        post: {
          summary: "Submit a job (LAVA YAML in `definition`)",
          security: auth,
          requestBody: { content: json(ref("SubmitJobRequest")) },
          parameters: [{ name: "Idempotency-Key", in: "header", schema: { type: "string" } }],
          responses: { 201: { description: "created", content: json(ref("SubmitJobResponse")) }, 400: err, 401: err },
        },
      },
      "/api/v0.2/jobs/validate/": {
        post: {
          summary: "Validate a job definition",
          requestBody: { content: json(ref("SubmitJobRequest")) },
          responses: {
            200: {
              description: "`{message: 'Job valid.'}` or `{message: 'Job invalid: …'}`",
              content: json({ type: "object", properties: { message: { type: "string" } } }),
            },
          },
        },
      },
      "/api/v0.2/jobs/{id}/": {
        get: {
          summary: "Job detail",
          parameters: [idParam],
          responses: { 200: { description: "job", content: json(ref("JobDetail")) }, 404: err },
        },
      },
      "/api/v0.2/jobs/{id}/cancel/": {
        post: {
          summary: "Cancel a job",
          security: auth,
          parameters: [idParam],
          responses: { 200: { description: "`{message}`" }, 401: err, 403: err, 404: err },
        },
      },
      "/api/v0.2/jobs/{id}/resubmit/": {
        post: {
          summary: "Resubmit a job (its original definition, as the caller)",
          security: auth,
          parameters: [idParam],
          responses: { 201: { description: "created", content: json(ref("SubmitJobResponse")) }, 400: err, 401: err, 404: err },
        },
      },
      "/api/v0.2/jobs/{id}/logs/": {
        get: {
          summary: "Log lines [start, end) as LAVA's output.yaml (JSON with Accept: application/json)",
          parameters: [
            idParam,
            { name: "start", in: "query", schema: { type: "integer" } },
            { name: "end", in: "query", schema: { type: "integer" } },
          ],
          responses: { 200: file("application/yaml", "output.yaml lines"), 404: err },
        },
      },
      "/api/v0.2/jobs/{id}/logs/stream/": {
        get: {
          summary: "Live log as Server-Sent Events (`line`, `end`)",
          parameters: [idParam],
          responses: { 200: file("text/event-stream", "SSE") },
        },
      },
      "/api/v0.2/jobs/{id}/suites/": {
        get: {
          summary: "Result suites",
          parameters: [idParam, ...paging],
          responses: { 200: { description: "page", content: json(page("TestSuite")) } },
        },
      },
      "/api/v0.2/jobs/{id}/tests/": {
        get: {
          summary: "Test cases",
          parameters: [idParam, ...paging],
          responses: { 200: { description: "page", content: json(page("TestCase")) } },
        },
      },
      "/api/v0.2/jobs/{id}/results/": {
        get: {
          summary: "All suites with their cases (Magma)",
          parameters: [idParam],
          responses: { 200: { description: "results", content: json(ref("JobResults")) } },
        },
      },
      "/api/v0.2/jobs/{id}/metadata/": {
        get: { summary: "The job's metadata", parameters: [idParam], responses: { 200: { description: "`{metadata}`" } } },
      },
      "/api/v0.2/jobs/{id}/csv/": {
        get: {
          summary: "Results as LAVA's CSV export",
          parameters: [idParam],
          responses: { 200: file("application/csv", "CSV"), 404: err },
        },
      },
      "/api/v0.2/jobs/{id}/yaml/": {
        get: {
          summary: "Results as LAVA's YAML export",
          parameters: [idParam],
          responses: { 200: file("application/yaml", "YAML"), 404: err },
        },
      },
      "/api/v0.2/jobs/{id}/junit/": {
        get: { summary: "Results as JUnit XML", parameters: [idParam], responses: { 200: file("application/xml", "JUnit"), 404: err } },
      },
      "/api/v0.2/devices/": {
        get: { summary: "Devices", parameters: paging, responses: { 200: { description: "page", content: json(page("DeviceSummary")) } } },
      },
      "/api/v0.2/devicetypes/": {
        get: {
          summary: "Device types",
          parameters: paging,
          responses: { 200: { description: "page", content: json(page("DeviceTypeSummary")) } },
        },
      },
      "/api/v0.2/workers/": {
        get: {
          summary: "Workers (no tokens)",
          parameters: paging,
          responses: { 200: { description: "page", content: json(page("WorkerSummary")) } },
        },
      },
      "/api/v0.2/system/version/": { get: { summary: "Server version", responses: { 200: { description: "`{version}`" } } } },
      "/api/v0.2/system/whoami/": { get: { summary: "Authenticated user", responses: { 200: { description: "`{user}`" } } } },
      "/api/v0.2/events/": {
        get: {
          summary:
            "Event stream (SSE): LAVA topics org.lavasoftware.testjob|device|worker, `data` = LAVA's 5-frame array; resumable with ?since=<id> or Last-Event-ID",
          parameters: [
            { name: "since", in: "query", schema: { type: "integer" } },
            { name: "topic", in: "query", schema: { type: "string" } },
          ],
          responses: { 200: file("text/event-stream", "SSE") },
        },
      },
      "/api/v0.2/magma/overview/": {
        get: {
          summary: "Lab overview for the frontend",
          responses: { 200: { description: "overview", content: json(ref("InstanceOverview")) } },
        },
      },
    },
  };
}
