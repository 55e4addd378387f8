import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node } from "yaml";
import { MAX_DEFINITION_BYTES, MAX_YAML_ALIASES, yamlNestingProblem } from "./parse.ts";

/** What replaces a secret in every output, as LAVA (since 2024) writes it in job logs. */
export const MASKED = "[MASKED]";

/**
 * Shortest secret also masked where it is copied elsewhere in the definition (inside other values
 * and comments). Shorter ones are masked only where they are declared: replacing every "root" or
 * "1234" in a job would garble it without hiding anything.
 */
export const MIN_COPIED_SECRET_CHARS = 6;

type Path = (string | number)[];

/** Paths of every secret-bearing value of a parsed definition (whatever its validity). */
function secretPaths(raw: unknown): Path[] {
  const out: Path[] = [];
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return out;
  const obj = raw as Record<string, unknown>;
  const keysOf = (v: unknown): string[] => (v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v) : []);
  for (const k of keysOf(obj["secrets"])) out.push(["secrets", k]);
  const notify = obj["notify"] as Record<string, unknown> | undefined;
  if (notify && typeof notify === "object") {
    if (keysOf(notify["callback"]).includes("token")) out.push(["notify", "callback", "token"]);
    if (Array.isArray(notify["callbacks"]))
      notify["callbacks"].forEach((c, j) => keysOf(c).includes("token") && out.push(["notify", "callbacks", j, "token"]));
  }
  const actions = obj["actions"];
  if (!Array.isArray(actions)) return out;
  actions.forEach((a, i) => {
    if (!a || typeof a !== "object") return;
    const deploy = (a as Record<string, unknown>)["deploy"] as Record<string, unknown> | undefined;
    if (deploy && typeof deploy === "object") {
      const images: [Path, unknown][] = keysOf(deploy["images"]).map((n) => [
        ["actions", i, "deploy", "images", n],
        (deploy["images"] as Record<string, unknown>)[n],
      ]);
      for (const n of ["kernel", "ramdisk", "dtb"]) if (deploy[n]) images.push([["actions", i, "deploy", n], deploy[n]]);
      for (const [p, image] of images) {
        const headers = image && typeof image === "object" ? (image as Record<string, unknown>)["headers"] : undefined;
        for (const h of keysOf(headers)) out.push([...p, "headers", h]);
      }
    }
    const boot = (a as Record<string, unknown>)["boot"] as Record<string, unknown> | undefined;
    if (boot && typeof boot === "object" && keysOf(boot["auto_login"]).includes("password"))
      out.push(["actions", i, "boot", "auto_login", "password"]);
  });
  return out;
}

/**
 * The secret values a (parsed) job definition declares, at the places {@link redactDefinition}
 * masks (`secrets:` values, image `headers` values, `auto_login.password`, notify tokens): what the
 * worker masks in the job log. Never throws.
 */
export function definitionSecretValues(raw: unknown): string[] {
  const out = new Set<string>();
  for (const p of secretPaths(raw)) {
    let v: unknown = raw;
    for (const k of p) v = v && typeof v === "object" ? (v as Record<string | number, unknown>)[k] : undefined;
    if (typeof v === "string" || typeof v === "number") out.add(String(v));
  }
  return [...out];
}

/** Masks the node at `path` in place (its anchor kept, so aliases of it show the mask too); returns what it held. */
function maskAt(doc: Document, path: Path): string[] {
  let node = doc.getIn(path, true) as Node | undefined;
  if (isAlias(node)) node = node.resolve(doc) as Node | undefined;
  if (isScalar(node)) {
    const was = node.value;
    node.value = MASKED;
    return was === null || was === undefined ? [] : [String(was)];
  }
  if (isMap(node) || isSeq(node)) {
    const values: string[] = [];
    visit(node, { Scalar: (_k, s) => void (s.value !== null && values.push(String(s.value))) });
    doc.setIn(path, MASKED);
    return values;
  }
  return [];
}

function replaceAll(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASKED);
  return out;
}

/**
 * Replaces every secret of a job definition with {@link MASKED}, for any output of the definition
 * (REST job detail, XML-RPC `scheduler.jobs.definition`, notify callback payloads, the frontend):
 * `secrets:` values, image `headers` values (tmpfs images and tftp kernel/ramdisk/dtb),
 * `auto_login.password`, notify callback `token`s. Values declared there that are at least
 * {@link MIN_COPIED_SECRET_CHARS} long are also masked wherever else they appear (other values,
 * comments). Keys, layout and comments are kept; YAML aliases of a secret show the mask.
 * The stored definition and the worker's job bundle keep the real values.
 * @param text a job definition as stored (YAML or JSON)
 * @returns the redacted YAML text; when the text cannot be parsed as YAML, a one-line YAML comment
 *   saying so (never the unredacted text). Never throws.
 */
export function redactDefinition(text: string): string {
  try {
    if (text.length > 2 * MAX_DEFINITION_BYTES || yamlNestingProblem(text))
      return "# definition hidden: too large or too deeply nested to mask its secrets\n";
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length) return "# definition hidden: it is not valid YAML, so its secrets could not be masked\n";
    const paths = secretPaths(doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }));
    if (!paths.length) return text;
    const found = paths.flatMap((p) => maskAt(doc, p));
    const copied = [...new Set(found)]
      .filter((s) => s.length >= MIN_COPIED_SECRET_CHARS && s !== MASKED)
      .sort((a, b) => b.length - a.length);
    if (copied.length) {
      visit(doc, (key, n) => {
        // values only: a mapping key is structure, never a secret (masking it would rename the key)
        if (isScalar(n) && key !== "key" && typeof n.value === "string") n.value = replaceAll(n.value, copied);
        if (isScalar(n) || isMap(n) || isSeq(n)) {
          if (n.comment) n.comment = replaceAll(n.comment, copied);
          if (n.commentBefore) n.commentBefore = replaceAll(n.commentBefore, copied);
        }
      });
      if (doc.commentBefore) doc.commentBefore = replaceAll(doc.commentBefore, copied);
      if (doc.comment) doc.comment = replaceAll(doc.comment, copied);
    }
    return doc.toString({ lineWidth: 0 });
  } catch {
    return "# definition hidden: its secrets could not be masked\n";
  }
}
