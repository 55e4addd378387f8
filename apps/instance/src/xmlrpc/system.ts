import { INSTANCE_VERSION } from "../devices/list-inventory.ts";
import { RpcFault, str, type RpcMethods } from "./rpc.ts";

/** `system.api_version()`: LAVA 2023.01 answers 2 (`get_dictionary`'s `context` argument exists). */
export const XMLRPC_API_VERSION = 2;

/**
 * `system.*`: version, whoami, api_version and the introspection methods (listMethods, methodHelp,
 * methodSignature, getCapabilities). `registry` gives every registered method, this namespace included.
 */
export function systemMethods(registry: () => RpcMethods): RpcMethods {
  return {
    "system.version": {
      help: "`system.version` ()\n\nReturn the server version string. lavacli parses its leading `YYYY.MM` to pick the API\nflavour, so Magma answers `2023.01+magma.N` (LAVA 2023.01 compatible).",
      async handler() {
        return INSTANCE_VERSION;
      },
    },
    "system.whoami": {
      help: "`whoami` ()\n\nName of the authenticated user, if any, or None.",
      async handler(call) {
        return call.user?.username ?? null;
      },
    },
    "system.api_version": {
      help: "`system.api_version` ()\n\nReturn the XML-RPC API version integer (2).",
      async handler() {
        return XMLRPC_API_VERSION;
      },
    },
    "system.listMethods": {
      help: "`listMethods` ()\n\nList all available methods in this XML-RPC server.",
      async handler() {
        return Object.keys(registry()).sort();
      },
    },
    "system.methodHelp": {
      help: "`methodHelp` (`method_name`)\n\nProvide documentation for specified method.",
      async handler(call) {
        const name = str(call.params, 0, "method_name");
        const m = registry()[name];
        // LAVA answers an empty string for an unknown method rather than a fault
        return m ? m.help : "";
      },
    },
    "system.methodSignature": {
      help: "`methodSignature` (`method_name`)\n\nProvide signature for the specified method, or `undef` (as LAVA for nearly all methods).",
      async handler(call) {
        const name = str(call.params, 0, "method_name");
        if (!registry()[name]) throw new RpcFault(-32601, `method "${name}" is not supported`);
        return "undef";
      },
    },
    "system.getCapabilities": {
      help: "`getCapabilities` ()\n\nXML-RPC Server capabilities.",
      async handler() {
        return {
          auth_token: { specUrl: "xxxxxx", specVersion: 1 },
          introspect: { specUrl: "http://xmlrpc-c.sourceforge.net/introspection.html", specVersion: 1 },
          faults_interop: { specUrl: "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php", specVersion: 20010516 },
        };
      },
    },
  };
}
