import type { FastifyInstance } from "fastify";
import { MAX_DEFINITION_BYTES } from "@magma/protocol";
import type { InstanceContext } from "../../context.ts";
import { authenticateBasic, handleRpcBody } from "../../xmlrpc/dispatch.ts";

/** Largest XML-RPC request, bytes: a maximal job definition, XML-escaped, fits. */
export const XMLRPC_BODY_LIMIT_BYTES = MAX_DEFINITION_BYTES * 6 + 64 * 1024;

/**
 * LAVA's XML-RPC endpoint, `POST /RPC2` (also `/RPC2/`), what lavacli speaks.
 * Input: a `<methodCall>` (text/xml); `Authorization: Basic base64(username:token)` or none.
 * Outcomes:
 *   1. credentials sent but wrong or malformed → HTTP 401 (LAVA: lavacli shows `401 Unauthorized`)
 *      with `WWW-Authenticate: Basic realm="magma"`, no XML;
 *   2. otherwise HTTP 200 `application/xml` with a `<methodResponse>`: the value, or a fault with
 *      LAVA's code and text (401 `Authentication with user and token required for this API.` for
 *      an anonymous write, 404 `Job '<id>' was not found.`, 400 `Problem with submitted job data: …`).
 * The XML content-type parser is registered inside this plugin only, so other routes are untouched.
 */
export function registerXmlRpcRoutes(app: FastifyInstance, ctx: InstanceContext): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      ["text/xml", "application/xml"],
      { parseAs: "string", bodyLimit: XMLRPC_BODY_LIMIT_BYTES },
      (_req, body, done) => done(null, body),
    );
    const handler = async (req: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => {
      const caller = await authenticateBasic(ctx.db, req.headers.authorization);
      if ("invalid" in caller) {
        req.log.info({ reason: caller.invalid }, "xml-rpc credentials refused");
        return reply.status(401).header("www-authenticate", 'Basic realm="magma"').type("text/plain").send("401 Unauthorized");
      }
      const body = typeof req.body === "string" ? req.body : "";
      const r = await handleRpcBody(ctx, caller.user, body);
      req.log.info({ method: r.method, user: caller.user?.username ?? null, faultCode: r.faultCode }, "xml-rpc call");
      return reply.type("application/xml").send(r.xml);
    };
    scope.post("/RPC2", { bodyLimit: XMLRPC_BODY_LIMIT_BYTES }, handler);
    scope.post("/RPC2/", { bodyLimit: XMLRPC_BODY_LIMIT_BYTES }, handler);
  });
}
