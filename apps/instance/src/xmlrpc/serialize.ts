/**
 * XML-RPC response serialisation as LAVA's Python server (`xmlrpc.client.dumps`) writes it.
 *
 * Requests are parsed with @foxglove/xmlrpc's Deserializer; responses are written here because that
 * library's serializer (a) wraps any string with `<` or `&` in CDATA and throws on `]]>` — which job
 * logs and definitions can contain — and (b) writes dates as `2026-11-23T07:06:34.000Z`, while LAVA
 * writes `20261123T07:06:34` and lavacli prints that text verbatim (`jobs show --yaml`,
 * `workers show`). Outputs must match LAVA's, so we own this small, total function.
 */

/** A value an XML-RPC handler may return. `null`/`undefined` → `<nil/>` (LAVA runs with allow_none). */
export type RpcValue = null | undefined | boolean | number | bigint | string | Date | Buffer | RpcValue[] | { [key: string]: RpcValue };

// XML 1.0 cannot carry these at all (Python's client would refuse the document): drop them.
const XML_INVALID =
  // eslint-disable-next-line no-control-regex -- control characters XML 1.0 forbids are what this strips
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// anything escapeXml would change: & < >, control characters, surrogates, U+FFFE/U+FFFF
// eslint-disable-next-line no-control-regex -- control characters XML 1.0 forbids are what this test looks for
const NEEDS_ESCAPE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F&<>\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * Escapes text for an XML element body, as `xmlrpc.client.escape` (& < >), dropping XML-invalid chars.
 * Text with none of those characters (names, states, most descriptions) is returned as it is after
 * one scan.
 */
export function escapeXml(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(XML_INVALID, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `xmlrpc.client.DateTime` text of a UTC instant: `20261123T07:06:34` (seconds, no zone: LAVA's form). */
export function xmlrpcDate(d: Date): string {
  const iso = d.toISOString(); // 2026-11-23T07:06:34.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 19)}`;
}

/** Base64 in lines of 76 characters, as Python's `base64.encodebytes` (what `Binary` sends). */
function base64Lines(b: Buffer): string {
  const s = b.toString("base64");
  let out = "\n";
  for (let i = 0; i < s.length; i += 76) out += s.slice(i, i + 76) + "\n";
  return out;
}

function value(v: RpcValue, out: string[]): void {
  if (v === null || v === undefined) {
    out.push("<value><nil/></value>");
  } else if (typeof v === "boolean") {
    out.push(`<value><boolean>${v ? 1 : 0}</boolean></value>`);
  } else if (typeof v === "bigint") {
    out.push(`<value><int>${v.toString()}</int></value>`);
  } else if (typeof v === "number") {
    if (Number.isInteger(v)) out.push(`<value><int>${v}</int></value>`);
    else out.push(`<value><double>${Number.isFinite(v) ? String(v) : "nan"}</double></value>`);
  } else if (typeof v === "string") {
    out.push(`<value><string>${escapeXml(v)}</string></value>`);
  } else if (v instanceof Date) {
    out.push(`<value><dateTime.iso8601>${xmlrpcDate(v)}</dateTime.iso8601></value>`);
  } else if (Buffer.isBuffer(v)) {
    out.push(`<value><base64>${base64Lines(v)}</base64></value>`);
  } else if (Array.isArray(v)) {
    out.push("<value><array><data>\n");
    for (const x of v) {
      value(x, out);
      out.push("\n");
    }
    out.push("</data></array></value>");
  } else {
    out.push("<value><struct>\n");
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      out.push(`<member>\n<name>${escapeXml(k)}</name>\n`);
      value(x, out);
      out.push("\n</member>\n");
    }
    out.push("</struct></value>");
  }
}

/** A whole `<methodResponse>` carrying one value. */
export function serializeResponse(v: RpcValue): string {
  const out: string[] = ["<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"];
  value(v, out);
  out.push("\n</param>\n</params>\n</methodResponse>\n");
  return out.join("");
}

/** A `<methodResponse><fault>` with LAVA's `faultCode` (HTTP-like: 400, 401, 403, 404) and `faultString`. */
export function serializeFault(code: number, message: string): string {
  const out: string[] = ["<?xml version='1.0'?>\n<methodResponse>\n<fault>\n"];
  value({ faultCode: code, faultString: message }, out);
  out.push("\n</fault>\n</methodResponse>\n");
  return out.join("");
}
