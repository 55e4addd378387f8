/**
 * A small XML-RPC `<methodResponse>` reader for the bench's LAVA-API client. @foxglove/xmlrpc's
 * Deserializer (sax-js, event per character run) takes ~20 ms for a 100-job `scheduler.jobs.list`
 * answer (50 KB) on the bench machine — ten times the server's own time — so the client, not the
 * server, would be measured; lavacli's `xmlrpc.client` (expat) reads it in about a millisecond.
 * This reader handles what LAVA (`xmlrpc.client.dumps`) and Magma write: `int`/`i4`/`i8`,
 * `boolean`, `string` (or bare text), `double`, `dateTime.iso8601` (as its text), `base64` (as a
 * Buffer), `nil` (undefined), `array`, `struct` and faults. Anything else (CDATA, comments, unknown types)
 * returns undefined and the caller uses the Deserializer.
 */

const ENTITY = /&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g;
const decode = (s: string) =>
  s.includes("&")
    ? s.replace(ENTITY, (_, e: string) =>
        e === "lt"
          ? "<"
          : e === "gt"
            ? ">"
            : e === "amp"
              ? "&"
              : e === "quot"
                ? '"'
                : e === "apos"
                  ? "'"
                  : String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)),
      )
    : s;

class Unsupported extends Error {}

/** The value of a methodResponse, `{fault: {faultCode, faultString}}` for a fault, or undefined when not understood. */
export function readMethodResponse(xml: string): { value: unknown } | { fault: { faultCode: number; faultString: string } } | undefined {
  if (xml.includes("<![CDATA[") || xml.includes("<!--")) return undefined;
  // tags and text runs; whitespace-only text between tags is dropped below
  const tokens = xml.match(/<[^>]+>|[^<]+/g) ?? [];
  let i = 0;
  const next = () => tokens[i++];
  const skipSpace = () => {
    while (i < tokens.length && tokens[i]![0] !== "<" && !tokens[i]!.trim()) i++;
  };
  const expect = (tag: string) => {
    skipSpace();
    if (next() !== tag) throw new Unsupported(tag);
  };
  const text = (close: string): string => {
    let s = "";
    while (tokens[i] !== undefined && tokens[i] !== close) {
      if (tokens[i]![0] === "<") throw new Unsupported(tokens[i]);
      s += tokens[i++];
    }
    expect(close);
    return decode(s);
  };
  const value = (): unknown => {
    // after <value>
    if (tokens[i] === "</value>") {
      i++;
      return "";
    }
    if (tokens[i]![0] !== "<") {
      const s = decode(tokens[i++]!);
      if (tokens[i] === "</value>") {
        i++;
        return s;
      }
      if (s.trim()) throw new Unsupported("text before a type");
    }
    skipSpace();
    const open = next()!;
    let v: unknown;
    switch (open) {
      case "<int>":
      case "<i4>":
      case "<i8>":
        v = Number(text(`</${open.slice(1)}`));
        break;
      case "<boolean>":
        v = text("</boolean>").trim() === "1";
        break;
      case "<string>":
        v = text("</string>");
        break;
      case "<string/>":
        v = "";
        break;
      case "<double>":
        v = Number(text("</double>"));
        break;
      case "<dateTime.iso8601>":
        v = text("</dateTime.iso8601>");
        break;
      case "<base64>":
        v = Buffer.from(text("</base64>"), "base64");
        break;
      case "<nil/>":
        v = undefined; // as the Deserializer reads it
        break;
      case "<array>": {
        expect("<data>");
        const out: unknown[] = [];
        for (;;) {
          skipSpace();
          const t = next();
          if (t === "</data>") break;
          if (t !== "<value>") throw new Unsupported(t);
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
          const t = next();
          if (t === "</struct>") break;
          if (t !== "<member>") throw new Unsupported(t);
          expect("<name>");
          const name = text("</name>");
          expect("<value>");
          out[name] = value();
          expect("</member>");
        }
        v = out;
        break;
      }
      default:
        throw new Unsupported(open);
    }
    expect("</value>");
    return v;
  };
  try {
    if (tokens[0]?.startsWith("<?xml")) i++;
    expect("<methodResponse>");
    skipSpace();
    const t = next();
    if (t === "<fault>") {
      expect("<value>");
      const f = value() as { faultCode: number; faultString: string };
      return { fault: f };
    }
    if (t !== "<params>") throw new Unsupported(t);
    expect("<param>");
    expect("<value>");
    return { value: value() };
  } catch (e) {
    if (e instanceof Unsupported || e instanceof TypeError) return undefined;
    throw e;
  }
}
