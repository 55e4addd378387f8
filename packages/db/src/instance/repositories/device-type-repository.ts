import type { TDeviceHealth } from "@magma/protocol";
import type { InstanceDb, InstanceTx } from "../client.ts";
import type { TDeviceTypeDetail } from "../dto.ts";

/** Device types as the lab administration reads and changes them (LAVA `scheduler.device_types.*`). */

const TYPE_INCLUDE = {
  devices: { select: { hostname: true, health: true }, orderBy: { hostname: "asc" } },
  aliases: { select: { name: true }, orderBy: { name: "asc" } },
} as const;

type TypeRow = Awaited<ReturnType<typeof findRow>>;
const findRow = (db: InstanceDb | InstanceTx, name: string) => db.deviceType.findUnique({ where: { name }, include: TYPE_INCLUDE });

function fromTypeRow(t: NonNullable<TypeRow>): TDeviceTypeDetail {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    display: t.display,
    healthFrequency: t.healthFrequency,
    healthDenominator: t.healthDenominator,
    disableHealthCheck: t.disableHealthCheck,
    healthCheckDefinition: t.healthCheckDefinition,
    dictionary:
      t.dictionary && typeof t.dictionary === "object" && !Array.isArray(t.dictionary) ? (t.dictionary as Record<string, unknown>) : {},
    templateJinja2: t.templateJinja2,
    devices: t.devices.map((d) => ({ hostname: d.hostname, health: d.health as TDeviceHealth })),
    aliases: t.aliases.map((a) => a.name),
  };
}

/** Device types by name with their devices and aliases; hidden ones (`display` false) only when `showAll`. */
export async function listDeviceTypeDetails(db: InstanceDb | InstanceTx, showAll: boolean): Promise<TDeviceTypeDetail[]> {
  const rows = await db.deviceType.findMany({ where: showAll ? {} : { display: true }, include: TYPE_INCLUDE, orderBy: { name: "asc" } });
  return rows.map(fromTypeRow);
}

/** The device type called `name`, or null. */
export async function findDeviceTypeDetail(db: InstanceDb | InstanceTx, name: string): Promise<TDeviceTypeDetail | null> {
  const t = await findRow(db, name);
  return t ? fromTypeRow(t) : null;
}

/**
 * Changes what is given of device type `typeId` (description, display, health-check schedule and
 * switch, health-check definition, dictionary defaults); omitted fields stay as they are.
 */
export async function updateDeviceTypeFields(
  db: InstanceDb | InstanceTx,
  typeId: number,
  f: {
    description?: string;
    display?: boolean;
    healthFrequency?: number;
    healthDenominator?: "hours" | "jobs";
    disableHealthCheck?: boolean;
    healthCheckDefinition?: string;
    dictionary?: Record<string, unknown>;
    templateJinja2?: string | null;
  },
): Promise<void> {
  const { dictionary, ...rest } = f;
  await db.deviceType.update({
    where: { id: typeId },
    data: { ...rest, ...(dictionary !== undefined ? { dictionary: dictionary as object } : {}) },
  });
}

/** The id of the device type called `name`, or null (one indexed lookup; the submit path caches it). */
export async function findDeviceTypeId(db: InstanceDb | InstanceTx, name: string): Promise<number | null> {
  return (await db.deviceType.findUnique({ where: { name }, select: { id: true } }))?.id ?? null;
}
