import type { FrontendDb } from "../client.ts";
import type { TInstanceConfig, TInstanceRecord } from "../dto.ts";

const toRecord = (i: {
  id: number;
  name: string;
  kind: string;
  url: string;
  api_token: string;
  callback_token: string;
  callback_secret: string | null;
  callback_token_name: string | null;
}): TInstanceRecord => ({
  id: i.id,
  name: i.name,
  kind: i.kind === "lava" ? "lava" : "magma",
  url: i.url.replace(/\/+$/, ""),
  apiToken: i.api_token,
  callbackToken: i.callback_token,
  callbackSecret: i.callback_secret,
  callbackTokenName: i.callback_token_name,
});

/**
 * Creates or updates each configured lab by name (url, tokens and callback secret are overwritten). Labs missing
 * from the list are kept: their jobs stay browsable.
 * @returns the stored labs, in the order given
 */
export async function upsertInstances(db: FrontendDb, labs: readonly TInstanceConfig[]): Promise<TInstanceRecord[]> {
  const out: TInstanceRecord[] = [];
  for (const l of labs) {
    const data = {
      url: l.url.replace(/\/+$/, ""),
      api_token: l.api_token,
      callback_token: l.callback_token,
      callback_secret: l.callback_secret ?? null,
      kind: l.kind ?? "magma",
      callback_token_name: l.callback_token_name ?? null,
    };
    out.push(toRecord(await db.instance.upsert({ where: { name: l.name }, create: { name: l.name, ...data }, update: data })));
  }
  return out;
}

/** All labs, by name. */
export async function listInstances(db: FrontendDb): Promise<TInstanceRecord[]> {
  return (await db.instance.findMany({ orderBy: { name: "asc" } })).map(toRecord);
}

/** The lab called `name`, or null. */
export async function findInstanceByName(db: FrontendDb, name: string): Promise<TInstanceRecord | null> {
  const i = await db.instance.findUnique({ where: { name } });
  return i ? toRecord(i) : null;
}

/**
 * Records a signed callback's delivery id for the replay window, pruning ids older than the window.
 * @returns false when the id was already recorded (a replay)
 */
export async function recordCallbackDelivery(
  db: FrontendDb,
  instanceId: number,
  deliveryId: string,
  windowMs: number,
  now = new Date(),
): Promise<boolean> {
  await db.callbackDelivery.deleteMany({ where: { received_at: { lt: new Date(now.getTime() - windowMs) } } });
  const { count } = await db.callbackDelivery.createMany({
    data: [{ instance_id: instanceId, delivery_id: deliveryId, received_at: now }],
    skipDuplicates: true,
  });
  return count === 1;
}

/** Forgets a delivery id (its callback could not be queued: the lab's retry must be accepted). */
export async function forgetCallbackDelivery(db: FrontendDb, instanceId: number, deliveryId: string): Promise<void> {
  await db.callbackDelivery.deleteMany({ where: { instance_id: instanceId, delivery_id: deliveryId } });
}
