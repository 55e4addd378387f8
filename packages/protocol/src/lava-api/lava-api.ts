import { z } from "zod";
import { JOB_HEALTHS, JOB_STATES } from "../job-state.ts";

/**
 * Responses of an unchanged LAVA server's REST API v0.2 (LAVA 2023.01 or later, Django REST
 * framework, `lava_rest_app/v02`) as the frontend reads them when it federates a lab of kind
 * `lava`. Objects are loose: LAVA adds fields between releases and the frontend keeps only what it
 * uses. Times are ISO 8601 UTC with `Z` and microseconds (`2026-11-23T06:48:23.838617Z`) or null;
 * states and healths are names (`Finished`, `Complete`).
 */

/** DRF LimitOffset page `{count, next, previous, results}` of `item` (default page size 50). */
export const ZLavaPage = <T extends z.ZodType>(item: T) =>
  z.looseObject({
    count: z.number().int().nonnegative(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(item),
  });

/** `POST /api/v0.2/jobs/` `{definition}` → 201 `{"message":"job(s) successfully submitted","job_ids":[2344]}`. */
export const ZLavaSubmitResponse = z.looseObject({ message: z.string().optional(), job_ids: z.array(z.number().int()) });
export type TLavaSubmitResponse = z.infer<typeof ZLavaSubmitResponse>;

/** One job of `GET /api/v0.2/jobs/` or `GET jobs/<id>/` (TestJobSerializer; the worker `token` is ignored). */
export const ZLavaJob = z.looseObject({
  id: z.number().int(),
  submitter: z.string(),
  description: z.string().nullable(),
  health_check: z.boolean(),
  requested_device_type: z.string().nullable(),
  actual_device: z.string().nullable(),
  submit_time: z.string().nullable(),
  start_time: z.string().nullable(),
  end_time: z.string().nullable(),
  state: z.enum(JOB_STATES),
  health: z.enum(JOB_HEALTHS),
  priority: z.number().int(),
  definition: z.string(),
  failure_comment: z.string().nullable(),
});
export type TLavaJob = z.infer<typeof ZLavaJob>;
export const ZLavaJobsPage = ZLavaPage(ZLavaJob);
export type TLavaJobsPage = z.infer<typeof ZLavaJobsPage>;

/** One device of `GET /api/v0.2/devices/`. */
export const ZLavaDevice = z.looseObject({
  hostname: z.string(),
  device_type: z.string(),
  state: z.string(),
  health: z.string(),
  worker_host: z.string().nullable(),
});
export type TLavaDevice = z.infer<typeof ZLavaDevice>;
export const ZLavaDevicesPage = ZLavaPage(ZLavaDevice);

/** One worker of `GET /api/v0.2/workers/` (its `token` is ignored). */
export const ZLavaWorker = z.looseObject({
  hostname: z.string(),
  state: z.string(),
  health: z.string(),
  last_ping: z.string().nullable(),
});
export type TLavaWorker = z.infer<typeof ZLavaWorker>;
export const ZLavaWorkersPage = ZLavaPage(ZLavaWorker);

/** One device type of `GET /api/v0.2/devicetypes/`. */
export const ZLavaDeviceType = z.looseObject({ name: z.string(), display: z.boolean().optional() });
export const ZLavaDeviceTypesPage = ZLavaPage(ZLavaDeviceType);

/** `GET /api/v0.2/system/version/` → `{"version":"2023.01"}`. */
export const ZLavaVersion = z.looseObject({ version: z.string() });

/**
 * One line of `GET /api/v0.2/jobs/<id>/logs/?start=&end=` (`application/yaml`): the job's
 * output.yaml verbatim, one flow mapping `{dt, lvl, msg}` per line. `lvl` is kept as text here:
 * levels newer than this frontend are shown, not refused.
 */
export const ZLavaLogRecord = z.looseObject({
  dt: z.string(),
  lvl: z.string(),
  msg: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown()), z.number(), z.null()]),
});
export type TLavaLogRecord = z.infer<typeof ZLavaLogRecord>;

/**
 * The `notify:` block of a LAVA job definition, as far as the frontend edits it when it adds its
 * own callback (lava_scheduler_app/schema.py `_job_notify_schema`): `callbacks` (a list) or the
 * legacy single `callback` mapping; every other key (criteria, recipients, verbosity, compare) is
 * kept as the user wrote it.
 */
export const ZLavaNotifyCallback = z.looseObject({
  url: z.string(),
  method: z.enum(["GET", "POST"]).optional(),
  token: z.string().optional(),
  header: z.string().optional(),
  dataset: z.enum(["minimal", "logs", "results", "all"]).optional(),
  "content-type": z.enum(["urlencoded", "json"]).optional(),
});
export type TLavaNotifyCallback = z.infer<typeof ZLavaNotifyCallback>;
export const ZLavaNotifyBlock = z.looseObject({
  criteria: z.looseObject({ status: z.string() }).optional(),
  callbacks: z.array(ZLavaNotifyCallback).optional(),
  callback: ZLavaNotifyCallback.optional(),
});
export type TLavaNotifyBlock = z.infer<typeof ZLavaNotifyBlock>;
