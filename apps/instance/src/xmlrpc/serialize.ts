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

/** The `<value>` element of `v`, as one string (V8 joins `+=` pieces lazily, cheaper than an array and join). */
function value(v: RpcValue): string {
  if (v === null || v === undefined) return "<value><nil/></value>";
  switch (typeof v) {
    case "string":
      return `<value><string>${escapeXml(v)}</string></value>`;
    case "number":
      if (Number.isInteger(v)) return `<value><int>${v}</int></value>`;
      return `<value><double>${Number.isFinite(v) ? String(v) : "nan"}</double></value>`;
    case "boolean":
      return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
    case "bigint":
      return `<value><int>${v.toString()}</int></value>`;
  }
  if (v instanceof Date) return `<value><dateTime.iso8601>${xmlrpcDate(v)}</dateTime.iso8601></value>`;
  if (Buffer.isBuffer(v)) return `<value><base64>${base64Lines(v)}</base64></value>`;
  if (Array.isArray(v)) {
    let out = "<value><array><data>\n";
    for (const x of v) out += value(x) + "\n";
    return out + "</data></array></value>";
  }
  let out = "<value><struct>\n";
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    const x = v[k];
    if (x === undefined) continue;
    out += `<member>\n<name>${escapeXml(k)}</name>\n${value(x)}\n</member>\n`;
  }
  return out + "</struct></value>";
}

/** A whole `<methodResponse>` carrying one value. */
export function serializeResponse(v: RpcValue): string {
  return `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${value(v)}\n</param>\n</params>\n</methodResponse>\n`;
}

/** A `<methodResponse><fault>` with LAVA's `faultCode` (HTTP-like: 400, 401, 403, 404) and `faultString`. */
export function serializeFault(code: number, message: string): string {
  return `<?xml version='1.0'?>\n<methodResponse>\n<fault>\n${value({ faultCode: code, faultString: message })}\n</fault>\n</methodResponse>\n`;
}
