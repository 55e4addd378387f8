import { stringify } from "yaml";
import {
  createDeviceType,
  findDeviceTypeDetail,
  listDeviceDetails,
  listStoredDeviceTypeTemplates,
  listDeviceTypeDetails,
  updateDeviceTypeFields,
  type InstanceDb,
  type TDeviceTypeDetail,
} from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";
import { validateDefinition } from "../jobs/submit-job.ts";
import { parseDictionaryYaml } from "./device-admin.ts";
import { checkTemplateSafety, isJinja2, renderJinja2Dictionary } from "./jinja2-dictionary.ts";

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

/**
 * The device-type template: the type's own jinja2 template when one was set, else Magma's YAML
 * dictionary defaults of the type.
 */
export async function getDeviceTypeTemplate(db: InstanceDb, name: string): Promise<string> {
  const t = await getDeviceType(db, stripSuffix(name, ".jinja2"));
  if (t.templateJinja2 !== null) return t.templateJinja2;
  const d = t.dictionary;
  return Object.keys(d).length ? stringify(d, { lineWidth: 0, sortMapEntries: true }) : "";
}

/**
 * Replaces the type's template (LAVA `device_types.set_template`): a jinja2 template (LAVA's form,
 * `{% extends 'base.jinja2' %}` + blocks) is checked by the sandbox and by rendering a dictionary that
 * only extends it and every device's jinja2 dictionary with it, then stored as the type's
 * `<name>.jinja2` (shadowing a shipped one); a YAML
 * mapping replaces the type's dictionary defaults.
 * @throws AppError NOT_FOUND, INVALID_REQUEST naming the problem
 */
export async function setDeviceTypeTemplate(ctx: InstanceContext, name: string, text: string): Promise<void> {
  const t = await getDeviceType(ctx.db, stripSuffix(name, ".jinja2"));
  if (isJinja2(text)) {
    checkTemplateSafety(text, `Device-type '${t.name}' template`);
    const stored = await listStoredDeviceTypeTemplates(ctx.db);
    stored.set(`${t.name}.jinja2`, text);
    renderJinja2Dictionary({
      source: `{% extends '${t.name}.jinja2' %}`,
      hostname: `${t.name}-template-check`,
      deviceType: t.name,
      storedTemplates: stored,
    });
    // every device's jinja2 dictionary must still render with the new template (it may extend it)
    for (const d of await listDeviceDetails(ctx.db, true)) {
      if (d.dictionaryJinja2 === null) continue;
      try {
        renderJinja2Dictionary({ source: d.dictionaryJinja2, hostname: d.hostname, deviceType: d.deviceType, storedTemplates: stored });
      } catch (e) {
        throw new AppError(
          "INVALID_REQUEST",
          `Device-type '${t.name}' template: device '${d.hostname}' would no longer render: ${(e as Error).message}`,
        );
      }
    }
    await updateDeviceTypeFields(ctx.db, t.id, { templateJinja2: text });
    ctx.logger.info({ deviceType: t.name, format: "jinja2" }, "device-type template set");
    return;
  }
  const dict = parseDictionaryYaml(text, `Device-type '${t.name}' template`);
  await updateDeviceTypeFields(ctx.db, t.id, { dictionary: dict, templateJinja2: null });
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

export interface AddDeviceTypeOptions {
  name: string;
  description: string | null;
  display: boolean;
  healthFrequency: number;
  healthDenominator: "hours" | "jobs";
}

/** A device-type name: LAVA's slug-like names (`qemu`, `bcm2711-rpi-4-b`). */
const DEVICE_TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * Creates a device type (LAVA `device_types.add`): no devices, no health check, the shipped
 * `<name>.jinja2` (if any) as its template until one is set.
 * @throws AppError INVALID_REQUEST for a bad name or frequency, CONFLICT-like 400
 *   `Bad request: device-type name is already used.` (LAVA's text)
 */
export async function addDeviceType(ctx: InstanceContext, o: AddDeviceTypeOptions): Promise<void> {
  if (!DEVICE_TYPE_NAME.test(o.name))
    throw new AppError("INVALID_REQUEST", `Invalid device-type name '${o.name}': letters, digits, '.', '_' and '-' only`);
  if (!Number.isInteger(o.healthFrequency) || o.healthFrequency < 0)
    throw new AppError("INVALID_REQUEST", `Invalid health_frequency ${o.healthFrequency}: expected a positive integer`);
  if ((await createDeviceType(ctx.db, o)) === "exists")
    throw new AppError("INVALID_REQUEST", "Bad request: device-type name is already used.");
  ctx.logger.info({ deviceType: o.name }, "device type added");
}
