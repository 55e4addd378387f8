import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import nunjucks from "nunjucks";
import { parse as parseYaml, stringify } from "yaml";
import { ZDeviceDictionary } from "@magma/protocol";
import { AppError } from "../app-error.ts";

/**
 * LAVA's jinja2 device dictionaries and device-type templates, rendered with nunjucks (jinja2's
 * syntax in JavaScript), so a LAVA lab's dictionaries move over unchanged:
 *
 * ```
 * {% extends 'qemu.jinja2' %}
 * {% set memory = 1024 %}
 * {% set connection_command = 'telnet ser2net-host 7001' %}
 * ```
 *
 * Templates come from two places only: a device type's own template stored by
 * `scheduler.device_types.set_template` (`<type>.jinja2`), else the base templates shipped in
 * `apps/instance/device-types/` (`base.jinja2`, `qemu.jinja2`, `uboot.jinja2`). Magma's templates
 * render Magma's device dictionary (protocol ZDeviceDictionary), not LAVA's full device
 * configuration, with LAVA's variable names.
 *
 * Sandbox: nunjucks itself is not one (`{{ range.constructor("…")() }}` runs JavaScript), so every
 * template is parsed and its syntax tree checked before it is rendered ({@link checkTemplateSafety}):
 * no lookup of `constructor`, `__proto__`, `prototype` or another Object/Function property, no
 * computed member lookup (`a[b]` with a non-literal `b`), calls only of plain names (macros,
 * `caller`, `range`, `cycler`, `joiner`), no Python-only methods (`.items()`, `.get()`). `range` is
 * capped; the output is capped. The rendered YAML is then validated like any dictionary
 * (ZDeviceDictionary), so power and connection commands stay the superuser-set strings the worker
 * runs under its existing rules; nothing a template says reaches a shell at render time.
 */

/** Where the shipped base templates live: next to the sources (tsx) or next to dist/ (bundled). */
const TEMPLATE_DIRS = [
  path.resolve(import.meta.dirname, "..", "..", "device-types"),
  path.resolve(import.meta.dirname, "..", "device-types"),
];
const SHIPPED_DIR = TEMPLATE_DIRS.find((d) => existsSync(path.join(d, "base.jinja2"))) ?? TEMPLATE_DIRS[0]!;

/** A template name as `{% extends %}`/`{% include %}` may give it: one file name ending in `.jinja2`. */
const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.jinja2$/;
/** Largest rendered dictionary, in characters. */
const MAX_OUTPUT_CHARS = 256 * 1024;
/** Largest `range()` a template may build. */
const MAX_RANGE = 10_000;
/** Largest template, in characters. */
const MAX_TEMPLATE_CHARS = 128 * 1024;

/**
 * Names no template may look up or write as a string: Object.prototype's properties (`constructor`,
 * `__proto__`, `valueOf`…), the Function ones that rebind or reach code (`prototype`, `apply`,
 * `call`, `bind`, `arguments`), and anything starting with `__`.
 */
const FORBIDDEN_NAMES = new Set<string>([
  ...Object.getOwnPropertyNames(Object.prototype),
  "constructor",
  "prototype",
  "apply",
  "call",
  "bind",
  "arguments",
]);
const isForbiddenName = (n: string) => n.startsWith("__") || FORBIDDEN_NAMES.has(n);

/** True when `text` is a jinja2 template (has `{%`, `{{` or `{#`), not a plain YAML mapping. */
export function isJinja2(text: string): boolean {
  return /\{[%{#]/.test(text);
}

interface NjNode {
  typename: string;
  fields: string[];
  [k: string]: unknown;
}
const isNode = (v: unknown): v is NjNode => !!v && typeof v === "object" && typeof (v as NjNode).typename === "string";

/**
 * Parses `source` and refuses what could escape the sandbox (see the module comment).
 * @throws AppError INVALID_REQUEST `<what>: <reason> (line N)` for a syntax error or a refused construct
 */
export function checkTemplateSafety(source: string, what: string): void {
  if (source.length > MAX_TEMPLATE_CHARS)
    throw new AppError("INVALID_REQUEST", `${what}: template larger than ${MAX_TEMPLATE_CHARS} characters`);
  let root: unknown;
  try {
    root = (nunjucks as unknown as { parser: { parse(src: string): unknown } }).parser.parse(source);
  } catch (e) {
    throw new AppError("INVALID_REQUEST", `${what}: invalid jinja2 template: ${firstLine(e)}`);
  }
  const refuse = (n: NjNode, why: string): never => {
    const line = typeof n["lineno"] === "number" ? ` (line ${(n["lineno"] as number) + 1})` : "";
    throw new AppError("INVALID_REQUEST", `${what}: ${why} is not allowed in a device template${line}`);
  };
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!isNode(n)) return;
    switch (n.typename) {
      case "Symbol":
        if (isForbiddenName(String(n["value"]))) refuse(n, `the name '${String(n["value"])}'`);
        break;
      case "LookupVal": {
        const val = n["val"];
        if (!isNode(val) || val.typename !== "Literal") refuse(n, "a computed lookup (a[b])");
        const key = String((val as NjNode)["value"]);
        if (isForbiddenName(key)) refuse(n, `the attribute '${key}'`);
        break;
      }
      case "FunCall": {
        const callee = n["name"];
        if (!isNode(callee) || callee.typename !== "Symbol") refuse(n, "calling a method (x.f())");
        break;
      }
      case "Literal":
        if (typeof n["value"] === "string" && isForbiddenName(n["value"])) refuse(n, `the string '${n["value"]}'`);
        break;
      case "CallExtension":
      case "CallExtensionAsync":
        refuse(n, "an extension tag");
        break;
    }
    for (const f of n.fields) walk(n[f]);
    if (Array.isArray(n["children"]) && !n.fields.includes("children")) walk(n["children"]);
  };
  walk(root);
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" ")
    .replace(/^\(unknown path\)\s*/, "")
    .replace(/\b(?:App|Template render |Type)?Error: /g, "")
    .slice(0, 300);
}

/** Reads a shipped base template, or null. Only plain names inside the templates dir. */
function readShipped(name: string): string | null {
  if (!TEMPLATE_NAME.test(name)) return null;
  const file = path.join(SHIPPED_DIR, name);
  if (path.dirname(file) !== SHIPPED_DIR || !existsSync(file)) return null;
  return readFileSync(file, "utf8");
}

/** Names of the base templates shipped with Magma (`qemu.jinja2`…), for messages. */
export function hasShippedTemplate(name: string): boolean {
  return readShipped(name) !== null;
}

/**
 * A nunjucks loader over the device types' stored templates and the shipped ones; each template is
 * safety-checked as it is loaded.
 */
class DeviceTypeLoader {
  constructor(private readonly stored: ReadonlyMap<string, string>) {}
  getSource(name: string): { src: string; path: string; noCache: boolean } {
    if (!TEMPLATE_NAME.test(name))
      throw new AppError("INVALID_REQUEST", `Template '${name}' is not a device-type template name (<name>.jinja2)`);
    const src = this.stored.get(name) ?? readShipped(name);
    if (src === null) throw new AppError("INVALID_REQUEST", `Device-type template '${name}' was not found`);
    checkTemplateSafety(src, `Device-type template '${name}'`);
    return { src, path: name, noCache: true };
  }
}

function cappedRange(start: number, stop?: number, step = 1): number[] {
  const [a, b] = stop === undefined ? [0, Number(start)] : [Number(start), Number(stop)];
  const s = Number(step) || 1;
  const n = Math.ceil((b - a) / s);
  if (!Number.isFinite(n) || n > MAX_RANGE) throw new Error(`range() larger than ${MAX_RANGE} items`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(a + i * s);
  return out;
}

export interface RenderJinja2Options {
  /** the device's jinja2 dictionary text */
  source: string;
  hostname: string;
  deviceType: string;
  /** device types' own templates by `<type>.jinja2` name (they shadow the shipped ones) */
  storedTemplates: ReadonlyMap<string, string>;
}

/**
 * Renders a device's jinja2 dictionary into Magma's device dictionary (the YAML the worker gets):
 * sandboxed nunjucks (autoescape off, LAVA's `hostname`/`device_type` given as variables as LAVA
 * does), parsed as YAML, `hostname` and `device_type` set, validated with ZDeviceDictionary.
 * @returns the YAML text (same layout as the YAML-dictionary path)
 * @throws AppError INVALID_REQUEST naming the device and the problem (syntax, a refused construct,
 *   a missing template, YAML that is not a mapping, a dictionary key of the wrong type)
 */
export function renderJinja2Dictionary(o: RenderJinja2Options): string {
  const what = `Invalid device dictionary for '${o.hostname}'`;
  checkTemplateSafety(o.source, what);
  const env = new nunjucks.Environment([new DeviceTypeLoader(o.storedTemplates)] as unknown as nunjucks.ILoader[], {
    autoescape: false,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addGlobal("range", cappedRange);
  let text: string;
  try {
    text = env.renderString(o.source, { hostname: o.hostname, device_type: o.deviceType });
  } catch (e) {
    if (e instanceof AppError) throw e;
    const cause = (e as { cause?: unknown })?.cause;
    if (cause instanceof AppError) throw cause;
    throw new AppError("INVALID_REQUEST", `${what}: rendering failed: ${firstLine(e)}`);
  }
  if (text.length > MAX_OUTPUT_CHARS)
    throw new AppError("INVALID_REQUEST", `${what}: rendered dictionary larger than ${MAX_OUTPUT_CHARS} characters`);
  let value: unknown;
  try {
    value = parseYaml(text) ?? {};
  } catch (e) {
    throw new AppError("INVALID_REQUEST", `${what}: the rendered template is not valid YAML: ${firstLine(e)}`);
  }
  if (typeof value !== "object" || Array.isArray(value))
    throw new AppError("INVALID_REQUEST", `${what}: the rendered template is not a YAML mapping`);
  const dict = { ...(value as Record<string, unknown>), hostname: o.hostname, device_type: o.deviceType };
  const r = ZDeviceDictionary.safeParse(dict);
  if (!r.success)
    throw new AppError(
      "INVALID_REQUEST",
      `${what}: ${r.error.issues.map((i) => `dictionary.${i.path.map(String).join(".")}: ${i.message}`).join("; ")}`,
    );
  return stringify(dict, { lineWidth: 0 });
}
