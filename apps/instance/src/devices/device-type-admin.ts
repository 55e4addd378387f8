import { stringify } from "yaml";
import {
  findDeviceTypeDetail,
  listDeviceTypeDetails,
  updateDeviceTypeFields,
  type InstanceDb,
  type TDeviceTypeDetail,
} from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";
import { validateDefinition } from "../jobs/submit-job.ts";
import { parseDictionaryYaml } from "./device-admin.ts";

/** Device types by name; hidden ones (`display` false) only when `showAll` (LAVA `device_types.list`). */
export async function listDeviceTypesWithDevices(db: InstanceDb, showAll: boolean): Promise<TDeviceTypeDetail[]> {
  return listDeviceTypeDetails(db, showAll);
}

/** @throws AppError NOT_FOUND `Device-type '<name>' was not found.` (LAVA's text) */
export async function getDeviceType(db: InstanceDb, name: string): Promise<TDeviceTypeDetail> {
  const t = await findDeviceTypeDetail(db, name);
  if (!t) throw new AppError("NOT_FOUND", `Device-type '${name}' was not found.`);
  return t;
}

/** LAVA reads `<name>.jinja2`/`<name>.yaml` file names too: strip the suffix. */
export const stripSuffix = (name: string, suffix: string) => (name.endsWith(suffix) ? name.slice(0, -suffix.length) : name);

/** The device-type "template": Magma's device-dictionary defaults of the type, as YAML text. */
export async function getDeviceTypeTemplate(db: InstanceDb, name: string): Promise<string> {
  const t = await getDeviceType(db, stripSuffix(name, ".jinja2"));
  const d = t.dictionary;
  return Object.keys(d).length ? stringify(d, { lineWidth: 0, sortMapEntries: true }) : "";
}

/** Replaces the type's dictionary defaults with a YAML mapping. @throws AppError NOT_FOUND, INVALID_REQUEST */
export async function setDeviceTypeTemplate(ctx: InstanceContext, name: string, text: string): Promise<void> {
  const t = await getDeviceType(ctx.db, stripSuffix(name, ".jinja2"));
  const dict = parseDictionaryYaml(text, `Device-type '${t.name}' template`);
  await updateDeviceTypeFields(ctx.db, t.id, { dictionary: dict });
  ctx.logger.info({ deviceType: t.name }, "device-type template set");
}

/** The type's health-check job definition. @throws AppError NOT_FOUND when the type or its health check is missing */
export async function getHealthCheck(db: InstanceDb, name: string): Promise<string> {
  const t = await getDeviceType(db, stripSuffix(name, ".yaml"));
  if (!t.healthCheckDefinition) throw new AppError("NOT_FOUND", `Device-type '${t.name}' has no health-check.`);
  return t.healthCheckDefinition;
}

/**
 * Sets the type's health-check definition, validated like a submission (LAVA stores it unvalidated
 * and the health check fails later; refusing it now is the better contract).
 * @throws AppError NOT_FOUND, INVALID_JOB_DEFINITION (`Job invalid: … @ data['path']`)
 */
export async function setHealthCheck(ctx: InstanceContext, name: string, text: string): Promise<void> {
  const t = await getDeviceType(ctx.db, stripSuffix(name, ".yaml"));
  validateDefinition(text);
  await updateDeviceTypeFields(ctx.db, t.id, { healthCheckDefinition: text });
  ctx.logger.info({ deviceType: t.name }, "device-type health-check set");
  ctx.scheduler?.trigger();
}

export interface UpdateDeviceTypeOptions {
  description?: string | null;
  display?: boolean | null;
  healthFrequency?: number | null;
  healthDenominator?: "hours" | "jobs" | null;
  healthDisabled?: boolean | null;
}

/** Updates the non-null fields (LAVA `device_types.update`). @throws AppError NOT_FOUND */
export async function updateDeviceType(ctx: InstanceContext, name: string, o: UpdateDeviceTypeOptions): Promise<void> {
  const t = await getDeviceType(ctx.db, name);
  await updateDeviceTypeFields(ctx.db, t.id, {
    ...(o.description != null ? { description: o.description } : {}),
    ...(o.display != null ? { display: o.display } : {}),
    ...(o.healthFrequency != null ? { healthFrequency: o.healthFrequency } : {}),
    ...(o.healthDenominator != null ? { healthDenominator: o.healthDenominator } : {}),
    ...(o.healthDisabled != null ? { disableHealthCheck: o.healthDisabled } : {}),
  });
  ctx.scheduler?.trigger();
}
