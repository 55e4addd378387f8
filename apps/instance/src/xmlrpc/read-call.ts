/**
 * A reader of the plain `<methodCall>` documents XML-RPC clients send (Python's `xmlrpc.client`,
 * i.e. lavacli, and most others), about forty times faster than @foxglove/xmlrpc's Deserializer
 * (sax-js, one event per character run: ~0.2 ms for a one-line `scheduler.jobs.list` call, more for
 * a job definition). It reads the subset of XML those clients write — the `<?xml …?>` declaration,
 * lower-case tags without attributes, `methodName`, `params`, `int`/`i4`, `boolean`, `double`,
 * `string` (or bare text), `nil`, `array`, `struct`, and the five named entities plus numeric
 * character references — and gives the values the Deserializer gives for them. Anything else
 * (comments, CDATA, a DOCTYPE, attributes, other entities, `i8`, `base64`, `dateTime.iso8601`, a
 * carriage return, a malformed number, …) returns undefined: the caller then parses the document
 * with the Deserializer, which decides (values or a parse fault). So this reader never accepts a
 * document the Deserializer would refuse, nor reads one differently.
 */

const ENTITY = /&(?:(lt|gt|amp|quot|apos)|#x([0-9a-fA-F]{1,6})|#([0-9]{1,7}));/g;
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const INT = /^\s*[-+]?\d{1,15}\s*$/;
const DOUBLE = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;
const DECLARATION = /^<\?xml(?:\s+(?:version|encoding)\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))*\s*\?>/;

class NotPlain extends Error {}

/** Text with its entities replaced. @throws NotPlain for an `&` that does not start a supported entity, or a reference to NUL, a surrogate or beyond U+10FFFF */
function decode(s: string): string {
  if (!s.includes("&")) return s;
  if (s.replace(ENTITY, "").includes("&")) throw new NotPlain();
  return s.replace(ENTITY, (_, named: string | undefined, hex: string | undefined, dec: string | undefined) => {
    if (named) return NAMED[named]!;
    const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new NotPlain();
    return String.fromCodePoint(cp);
  });
}

/**
 * Reads a plain `<methodCall>` document.
 * @returns `[methodName, params]` as the Deserializer returns them (nil → undefined), or undefined
 *   when the document is not in the plain subset this reader handles (the caller falls back)
 */
export function readPlainMethodCall(xml: string): [string, unknown[]] | undefined {
  if (xml.includes("\r") || xml.includes("<!") || xml.includes("]]>")) return undefined;
  const decl = DECLARATION.exec(xml);
  const body = decl ? xml.slice(decl[0].length) : xml;
  // tags and the text runs between them
  const tokens = body.match(/<[^<>]*>|[^<]+/g);
  if (!tokens) return undefined;
  let i = 0;
  const isSpace = (t: string | undefined) => t !== undefined && t[0] !== "<" && !t.trim();
  const skipSpace = () => {
    while (isSpace(tokens[i])) i++;
  };
  const expect = (tag: string) => {
    skipSpace();
    if (tokens[i++] !== tag) throw new NotPlain();
  };
  /** the text up to `close` (consumed); tags inside are not plain */
  const text = (close: string): string => {
    let s = "";
    while (tokens[i] !== undefined && tokens[i]![0] !== "<") s += tokens[i++];
    if (tokens[i++] !== close) throw new NotPlain();
    return decode(s);
  };
  const value = (): unknown => {
    // just after <value>: bare text is a string
    let lead = "";
    if (tokens[i] !== undefined && tokens[i]![0] !== "<") lead = tokens[i++]!;
    if (tokens[i] === "</value>") {
      i++;
      return decode(lead);
    }
    if (lead.trim()) throw new NotPlain();
    const open = tokens[i++];
    let v: unknown;
    switch (open) {
      case "<string>":
        v = text("</string>");
        break;
      case "<string/>":
        v = "";
        break;
      case "<int>":
      case "<i4>": {
        const s = text(`</${open.slice(1)}`);
        if (!INT.test(s)) throw new NotPlain();
        v = parseInt(s, 10);
        break;
      }
      case "<boolean>": {
        const s = text("</boolean>");
        if (s !== "0" && s !== "1") throw new NotPlain();
        v = s === "1";
        break;
      }
      case "<double>": {
        const s = text("</double>");
        if (!DOUBLE.test(s)) throw new NotPlain();
        v = parseFloat(s);
        break;
      }
      case "<nil/>":
        v = undefined;
        break;
      case "<array>": {
        expect("<data>");
        const out: unknown[] = [];
        for (;;) {
          skipSpace();
          const t = tokens[i++];
          if (t === "</data>") break;
          if (t !== "<value>") throw new NotPlain();
          out.push(value());
        }
        expect("</array>");
        v = out;
        break;
      }
      case "<struct>": {
        const out: Record<string, unknown> = {};
        for (;;) {
          skipSpace();
          const t = tokens[i++];
          if (t === "</struct>") break;
          if (t !== "<member>") throw new NotPlain();
          expect("<name>");
          const key = text("</name>");
          expect("<value>");
          const x = value();
          expect("</member>");
          // the Deserializer's struct: a repeated name keeps the last value, in the first one's place
          out[key] = x;
        }
        v = out;
        break;
      }
      default:
        throw new NotPlain();
    }
    expect("</value>");
    return v;
  };

  try {
    expect("<methodCall>");
    expect("<methodName>");
    const name = text("</methodName>");
    const params: unknown[] = [];
    skipSpace();
    if (tokens[i] === "<params/>") i++;
    else if (tokens[i] === "<params>") {
      i++;
      for (;;) {
        skipSpace();
        const t = tokens[i++];
        if (t === "</params>") break;
        if (t !== "<param>") throw new NotPlain();
        expect("<value>");
        params.push(value());
        expect("</param>");
      }
    }
    expect("</methodCall>");
    skipSpace();
    if (i !== tokens.length || !name) return undefined;
    return [name, params];
  } catch (e) {
    if (e instanceof NotPlain) return undefined;
    throw e;
  }
}
