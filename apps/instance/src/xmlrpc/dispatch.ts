import type { InstanceDb, User } from "@magma/db/instance";
import type { InstanceContext } from "../context.ts";
import { userForSecret } from "../auth/authenticate-token.ts";
import { authMethods } from "./auth.ts";
import { resultsMethods } from "./results.ts";
import { RpcFault, toFault, type RpcMethods } from "./rpc.ts";
import { schedulerDeviceTypesMethods } from "./scheduler-device-types.ts";
import { schedulerDevicesMethods } from "./scheduler-devices.ts";
import { schedulerJobsMethods } from "./scheduler-jobs.ts";
import { schedulerTagsMethods } from "./scheduler-tags.ts";
import { schedulerWorkersMethods } from "./scheduler-workers.ts";
import { serializeFault, serializeResponse, type RpcValue } from "./serialize.ts";
import { systemMethods } from "./system.ts";

/** Every XML-RPC method Magma serves, by full name (`system.listMethods` lists them). */
export const RPC_METHODS: RpcMethods = {
  ...schedulerJobsMethods,
  ...schedulerDevicesMethods,
  ...schedulerDeviceTypesMethods,
  ...schedulerWorkersMethods,
  ...schedulerTagsMethods,
  ...resultsMethods,
  ...authMethods,
};
Object.assign(
  RPC_METHODS,
  systemMethods(() => RPC_METHODS),
  {
    "system.multicall": {
      help: "Call multiple methods with one request: an array of `{methodName, params}`; the answer holds, per call,\n`[value]` or a fault struct `{faultCode, faultString}`.",
      async handler(call) {
        const calls = call.params[0];
        if (!Array.isArray(calls)) throw new RpcFault(400, "system.multicall expects an array of {methodName, params}");
        const out: RpcValue[] = [];
        for (const c of calls as Record<string, unknown>[]) {
          const name = typeof c?.["methodName"] === "string" ? (c["methodName"] as string) : "";
          const r = await invoke(
            call.ctx,
            call.user,
            name === "system.multicall" ? "" : name,
            Array.isArray(c?.["params"]) ? (c["params"] as unknown[]) : [],
          );
          out.push("fault" in r ? { faultCode: r.fault.code, faultString: r.fault.message } : [r.value]);
        }
        return out;
      },
    },
  } satisfies RpcMethods,
);

/** The caller of an XML-RPC request: the user, or null for anonymous; `invalid` when credentials were sent but are wrong. */
export type RpcCaller = { user: User | null } | { invalid: string };

/**
 * Resolves lavacli's `Authorization: Basic base64(username:token)` (what xmlrpc.client sends for
 * `http://user:token@host/RPC2`, percent-encoding both parts). The token must belong to that username,
 * as LAVA's `AuthToken.get_user_for_secret(username, secret)`. No header = anonymous. Malformed
 * credentials (not Basic, no colon, bad percent-encoding, control characters) are `invalid` like wrong
 * ones, never an exception.
 */
export async function authenticateBasic(db: InstanceDb, header: string | undefined): Promise<RpcCaller> {
  if (!header) return { user: null };
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return { invalid: "Authorization must be HTTP Basic username:token" };
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { invalid: "Authorization must be HTTP Basic username:token" };
  let username: string;
  let secret: string;
  try {
    username = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  } catch {
    return { invalid: "Malformed percent-encoding in the Basic credentials" };
  }
  // eslint-disable-next-line no-control-regex -- credentials with control characters are refused outright
  if (!username || !secret || /[\u0000-\u001f\u007f]/.test(username + secret)) return { invalid: "Malformed Basic credentials" };
  // one query: that user, when it owns the token
  const user = await userForSecret(db, secret, username);
  if (!user) return { invalid: "Invalid username or token" };
  return { user };
}

async function invoke(
  ctx: InstanceContext,
  user: User | null,
  name: string,
  params: unknown[],
): Promise<{ value: RpcValue } | { fault: { code: number; message: string } }> {
  const method = RPC_METHODS[name];
  // SimpleXMLRPCDispatcher's answer for an unknown method (LAVA keeps it)
  if (!method) return { fault: { code: -32601, message: `method "${name}" is not supported` } };
  try {
    return { value: await method.handler({ ctx, user, params }) };
  } catch (e) {
    const f = toFault(e);
    if (f.unexpected) ctx.logger.error({ err: e, method: name }, "xml-rpc method failed");
    return { fault: { code: f.code, message: f.message } };
  }
}

let xmlrpcModule: Promise<typeof import("@foxglove/xmlrpc")> | undefined;
/**
 * @foxglove/xmlrpc (and its XML parser), loaded on the first /RPC2 request, not at start: labs
 * driven through REST never pay its memory. A CommonJS package: the esbuild bundle exposes it as
 * `default` only, Node's own loader also as named exports.
 */
const xmlrpcLib = () => (xmlrpcModule ??= import("@foxglove/xmlrpc").then((m) => (m as unknown as { default?: typeof m }).default ?? m));

/**
 * Handles one XML-RPC request body: parses the `<methodCall>` (@foxglove/xmlrpc's Deserializer),
 * runs the method and returns the `<methodResponse>` text — a value or a fault, never a throw.
 * Outcomes: 1. unparseable XML → fault -32700; 2. unknown method → fault -32601; 3. a method error →
 * its fault (RpcFault code, or the AppError status: 400/401/403/404/409); 4. a bug → fault 500.
 */
export async function handleRpcBody(
  ctx: InstanceContext,
  user: User | null,
  body: string,
): Promise<{ xml: string; method: string; faultCode?: number }> {
  let name: string;
  let params: unknown[];
  const { Deserializer } = await xmlrpcLib();
  try {
    [name, params] = (await new Deserializer().deserializeMethodCall(body)) as [string, unknown[]];
  } catch (e) {
    return {
      xml: serializeFault(-32700, `parse error. not well formed: ${(e as Error).message.split("\n")[0]}`),
      method: "",
      faultCode: -32700,
    };
  }
  const r = await invoke(ctx, user, name, params);
  if ("fault" in r) return { xml: serializeFault(r.fault.code, r.fault.message), method: name, faultCode: r.fault.code };
  return { xml: serializeResponse(r.value), method: name };
}
