import type { FrontendDb } from "../client.ts";
import type { TInstanceConfig, TInstanceRecord } from "../dto.ts";

const toRecord = (i: { id: number; name: string; url: string; api_token: string; callback_token: string }): TInstanceRecord => ({
  id: i.id,
  name: i.name,
  url: i.url.replace(/\/+$/, ""),
  apiToken: i.api_token,
  callbackToken: i.callback_token,
});

/**
 * Creates or updates each configured lab by name (url and tokens are overwritten). Labs missing
 * from the list are kept: their jobs stay browsable.
 * @returns the stored labs, in the order given
 */
export async function upsertInstances(db: FrontendDb, labs: readonly TInstanceConfig[]): Promise<TInstanceRecord[]> {
  const out: TInstanceRecord[] = [];
  for (const l of labs) {
    const data = { url: l.url.replace(/\/+$/, ""), api_token: l.api_token, callback_token: l.callback_token };
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
