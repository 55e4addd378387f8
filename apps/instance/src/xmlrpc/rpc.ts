import { canAdminister, type User } from "@magma/db/instance";
import { AppError } from "../app-error.ts";
import type { InstanceContext } from "../context.ts";
import type { RpcValue } from "./serialize.ts";

/**
 * An XML-RPC fault: LAVA answers errors with HTTP-like fault codes (400 bad input, 401 not
 * authenticated, 403 not allowed, 404 not found) and a one-line message, e.g.
 * `<Fault 404: "Job '999999' was not found.">`.
 */
export class RpcFault extends Error {
  readonly faultCode: number;
  constructor(faultCode: number, message: string) {
    super(message);
    this.name = "RpcFault";
    this.faultCode = faultCode;
  }
}

/** What a method handler gets: the instance, the authenticated user (null = anonymous) and the params. */
export interface RpcCall {
  ctx: InstanceContext;
  user: User | null;
  params: unknown[];
}

export interface RpcMethod {
  /** the handler; its returned value is serialised as the method response */
  handler: (call: RpcCall) => Promise<RpcValue>;
  /** `system.methodHelp` text (LAVA's docstring layout: Name / Description / Arguments / Return value) */
  help: string;
}

/** A namespace's methods by full name (`scheduler.jobs.show`). */
export type RpcMethods = Record<string, RpcMethod>;

/** LAVA's text for a method that needs a user (`<Fault 401: 'Authentication with user and token required for this API.'>`). */
export const AUTH_REQUIRED = "Authentication with user and token required for this API.";

/** @throws RpcFault 401 when anonymous, as LAVA's `check_perm`/`self._authenticate()` */
export function requireRpcUser(call: RpcCall): User {
  if (!call.user) throw new RpcFault(401, AUTH_REQUIRED);
  return call.user;
}

/** @throws RpcFault 401 when anonymous, 403 `Permission denied.` when not a superuser ("[superuser only]" methods) */
export function requireSuperuser(call: RpcCall): User {
  const u = requireRpcUser(call);
  if (!canAdminister(u)) throw new RpcFault(403, "Permission denied.");
  return u;
}

/**
 * Translates any error into a fault at the edge: RpcFault as is; AppError by its
 * catalog status (400/401/403/404/409/413); anything else is a bug → 500 "Internal error" (logged
 * by the caller), never a stack trace on the wire.
 */
export function toFault(e: unknown): { code: number; message: string; unexpected: boolean } {
  if (e instanceof RpcFault) return { code: e.faultCode, message: e.message, unexpected: false };
  if (e instanceof AppError) return { code: e.statusCode, message: e.message, unexpected: e.statusCode >= 500 };
  return { code: 500, message: "Internal error", unexpected: true };
}

const describe = (v: unknown) => (v === undefined ? "nothing" : v === null ? "None" : JSON.stringify(v));

/** Positional parameter `i` as a string (ints are accepted: `jobs show 3` may send either). @throws RpcFault 400 naming the parameter */
export function str(params: unknown[], i: number, name: string): string {
  const v = params[i];
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  throw new RpcFault(400, `Invalid argument '${name}': expected a string, got ${describe(v)}`);
}

/** Optional string parameter: undefined/None → null. */
export function optStr(params: unknown[], i: number, name: string): string | null {
  const v = params[i];
  return v === undefined || v === null ? null : str(params, i, name);
}

/** Optional int parameter (a numeric string is accepted, as Python's int()): undefined/None → `dflt`. */
export function optInt(params: unknown[], i: number, name: string, dflt: number | null): number | null {
  const v = params[i];
  if (v === undefined || v === null) return dflt;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  throw new RpcFault(400, `Invalid argument '${name}': expected an integer, got ${describe(v)}`);
}

/** Optional boolean parameter: undefined/None → `dflt`. */
export function optBool(params: unknown[], i: number, name: string, dflt: boolean): boolean {
  const v = params[i];
  if (v === undefined || v === null) return dflt;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  throw new RpcFault(400, `Invalid argument '${name}': expected a boolean, got ${describe(v)}`);
}

/**
 * A job id parameter, as LAVA's `TestJob.get_by_job_number` reads it (string or int; `"12.0"`
 * multinode sub-ids are not supported).
 * @throws RpcFault 404 `Job '<id>' was not found.` for anything that is not a job number
 */
export function jobIdArg(params: unknown[], i = 0): number {
  const raw = params[i];
  const s = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim() : "";
  const n = /^\d{1,10}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0 || n > 2_147_483_647)
    throw new RpcFault(404, `Job '${typeof raw === "string" ? raw : describe(raw)}' was not found.`);
  return n;
}

/**
 * LAVA's `check_perm(perm)`: 401 when anonymous, 403 `User 'x' is missing permission <perm>.` for
 * anyone but a superuser (Magma has no per-object permissions: superusers hold them all).
 */
export function requirePermission(call: RpcCall, perm: string): User {
  const u = requireRpcUser(call);
  if (!canAdminister(u)) throw new RpcFault(403, `User '${u.username}' is missing permission ${perm}.`);
  return u;
}
