import type { TDeviceHealth } from "@magma/protocol";
import { canAdminister, setDeviceHealthLocked, type User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";

export interface SetDeviceHealthOptions {
  ctx: InstanceContext;
  /** who asks; must be a superuser (LAVA: `change_device` permission) */
  user: User;
  hostname: string;
  health: TDeviceHealth;
  /** why (kept in the instance log, as LAVA's device log entry) */
  reason?: string | undefined;
}

export interface SetDeviceHealthResult {
  hostname: string;
  previous: TDeviceHealth;
  health: TDeviceHealth;
  changed: boolean;
}

/**
 * Sets a device's health by hand, as LAVA's REST `devices/<hostname>/set_health/` and
 * `lavacli devices update --health`: Maintenance or Retired take the device out of scheduling
 * (a job already on it runs to its end); Unknown brings it back through a health check first (when
 * its device type has one); Good brings it back at once; Looping runs health checks back to back;
 * Bad keeps it out until an admin acts. The device's state is never touched. A scheduler pass is
 * requested when the device may take work again. Idempotent: the same health again changes nothing.
 * Callable from REST and XML-RPC alike.
 * @throws AppError FORBIDDEN (not a superuser), NOT_FOUND (unknown device)
 */
export async function setDeviceHealth({ ctx, user, hostname, health, reason }: SetDeviceHealthOptions): Promise<SetDeviceHealthResult> {
  if (!canAdminister(user))
    throw new AppError("FORBIDDEN", `Permission denied: user '${user.username}' cannot change the health of device '${hostname}'`);
  const previous = await setDeviceHealthLocked(ctx.db, hostname, health);
  if (previous === null) throw new AppError("NOT_FOUND", `Device '${hostname}' not found`);
  const changed = previous !== health;
  if (changed) {
    ctx.logger.info({ device: hostname, by: user.username, from: previous, to: health, reason }, "device health set");
    if (health === "Good" || health === "Unknown" || health === "Looping") ctx.scheduler?.trigger();
  }
  return { hostname, previous, health, changed };
}
