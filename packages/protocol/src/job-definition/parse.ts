import { Lexer, parseDocument, stringify as stringifyYaml } from "yaml";
import type { z } from "zod";
import { ZJobContext, ZJobDefinition, type TJobDefinition } from "./job-definition.ts";
import { SUPPORTED_DEPLOY_METHODS } from "./deploy.ts";
import { SUPPORTED_BOOT_METHODS } from "./boot.ts";
import { SUPPORTED_TEST_SOURCES } from "./test.ts";
import { checkQemuJobArgs } from "./qemu-args.ts";
import { compileJobPattern } from "./patterns.ts";
import { MULTINODE_PROTOCOL, ZMultinodeProtocol, ZMultinodeRole, splitMultinodeDefinition } from "./multinode.ts";
import { fastParseYaml } from "./fast-yaml.ts";
import { downloadUrlProblem, imageNameProblem, SHELL_NAME_RE, testDefinitionPathProblem } from "./safety.ts";

/** Largest job definition accepted, in bytes (LAVA has no limit; 512 KiB is far above any real job). */
export const MAX_DEFINITION_BYTES = 512 * 1024;
/** Most YAML alias expansions accepted: stops "billion laughs" alias bombs. */
export const MAX_YAML_ALIASES = 100;

/** Deepest nesting of YAML flow collections (`[`/`{`) or of `- ` items on one line accepted. */
export const MAX_YAML_NESTING = 64;

/**
 * Refuses pathological nesting before the YAML parser sees it: `x: [[[[…]]]]` 200 000 levels deep
 * (400 KB) costs the recursive parser seconds and hundreds of MB before it gives up. One linear
 * pass of the YAML lexer, stopped at the first excess, when a character count cannot rule the
 * problem out. Real jobs nest a few levels.
 * @returns the problem, or undefined when the nesting is fine
 */
export function yamlNestingProblem(text: string): string | undefined {
  // each '[' / '{' token and each '-' / '?' item token is one such character of the text: a text with
  // at most MAX_YAML_NESTING of each cannot nest deeper, so most job definitions skip the lexer pass
  let brackets = 0;
  let items = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) brackets++;
    else if (c === 0x2d || c === 0x3f) items++;
  }
  if (brackets <= MAX_YAML_NESTING && items <= MAX_YAML_NESTING) return undefined;
  return lexedNestingProblem(text);
}

function lexedNestingProblem(text: string): string | undefined {
  let flow = 0;
  let items = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === "[" || token === "{") {
      if (++flow > MAX_YAML_NESTING) return `YAML nesting deeper than ${MAX_YAML_NESTING} levels ('[' / '{')`;
    } else if (token === "]" || token === "}") flow = Math.max(0, flow - 1);
    else if (token === "\n") items = 0;
    else if ((token === "-" || token === "?") && flow === 0 && ++items > MAX_YAML_NESTING)
      return `YAML nesting deeper than ${MAX_YAML_NESTING} levels ('- ' items on one line)`;
  }
  return undefined;
}

/** One problem in a job definition: `path` in LAVA/voluptuous form (`data['actions'][2]['boot']`). */
export interface TDefinitionError {
  path: string;
  message: string;
}

export type TParseResult =
  { ok: true; definition: TJobDefinition; raw: Record<string, unknown> } | { ok: false; errors: TDefinitionError[] };

/** Formats a path array as voluptuous does: `data['actions'][0]['deploy']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return "data" + path.map((p) => (typeof p === "number" ? `[${p}]` : `['${String(p)}']`)).join("");
}

/** One-line LAVA-style message: `Job invalid: <problem> @ data['x']` (several joined by "; "). */
export function formatDefinitionErrors(errors: readonly TDefinitionError[]): string {
  return "Job invalid: " + errors.map((e) => (e.path === "data" ? e.message : `${e.message} @ ${e.path}`)).join("; ");
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k as string];
  }
  return v;
}

type Issue = z.ZodError["issues"][number];

/**
 * Replaces each union failure by the issues of the branch that got furthest (deepest issue path):
 * for `{boot: {method: u-boot}}` without `commands`, the `boot` branch's "commands missing", not
 * "Invalid input" for the whole action.
 */
function unwrapUnions(issues: readonly Issue[], prefix: PropertyKey[] = []): Issue[] {
  return issues.flatMap((i): Issue[] => {
    const path = [...prefix, ...i.path];
    if (i.code !== "invalid_union" || !i.errors.length) return [{ ...i, path } as Issue];
    const depth = (branch: readonly Issue[]) =>
      Math.min(...branch.map((b) => (b.code === "unrecognized_keys" && b.path.length === 0 ? -1 : b.path.length)));
    const best = [...i.errors].sort((a, b) => depth(b) - depth(a))[0]!;
    if (depth(best) <= 0) return [{ ...i, path } as Issue];
    return unwrapUnions(best, path);
  });
}

function zodIssues(error: z.ZodError, raw: unknown): TDefinitionError[] {
  return unwrapUnions(error.issues).flatMap((i): TDefinitionError[] => {
    if (i.code === "unrecognized_keys") {
      return i.keys.map((k) => ({ path: formatPath([...i.path, k]), message: "extra keys not allowed" }));
    }
    const missing = valueAt(raw, i.path) === undefined;
    return [{ path: formatPath(i.path), message: missing ? "required key not provided" : i.message }];
  });
}

/**
 * Names each action whose method Magma does not run, with its YAML path, so such a job is refused
 * at submission (not accepted and left to fail later, which is what a partial implementation would do).
 */
function unsupportedMethods(raw: Record<string, unknown>): TDefinitionError[] {
  const out: TDefinitionError[] = [];
  const context = raw["context"];
  if (context && typeof context === "object" && !Array.isArray(context)) {
    const known = Object.keys(ZJobContext.shape);
    for (const k of Object.keys(context))
      if (!known.includes(k))
        out.push({
          path: formatPath(["context", k]),
          message: `context key '${k}' is not applied by Magma (supported: ${known.join(", ")})`,
        });
  }
  const notify = raw["notify"];
  const recipients = notify && typeof notify === "object" ? (notify as Record<string, unknown>)["recipients"] : undefined;
  if (Array.isArray(recipients)) {
    recipients.forEach((r, i) => {
      const to = r && typeof r === "object" ? (r as Record<string, unknown>)["to"] : undefined;
      const method = to && typeof to === "object" ? (to as Record<string, unknown>)["method"] : undefined;
      if (method === "irc")
        out.push({
          path: formatPath(["notify", "recipients", i, "to", "method"]),
          message: "IRC notifications are not sent by Magma: use method: email or callbacks",
        });
      else if (method === "email" && to && typeof to === "object" && !("user" in to) && !("email" in to))
        out.push({ path: formatPath(["notify", "recipients", i, "to"]), message: "an email recipient needs user or email" });
    });
  }
  const actions = raw["actions"];
  if (!Array.isArray(actions)) return out;
  actions.forEach((item, i) => {
    if (!item || typeof item !== "object" || Array.isArray(item)) {
      out.push({ path: formatPath(["actions", i]), message: "an action must be a mapping with one key: deploy, boot or test" });
      return;
    }
    const keys = Object.keys(item);
    if (keys.length !== 1) {
      out.push({
        path: formatPath(["actions", i]),
        message: `an action must have exactly one key (deploy, boot or test), got: ${keys.join(", ") || "none"}`,
      });
      return;
    }
    const kind = keys[0]!;
    const body = (item as Record<string, unknown>)[kind] as Record<string, unknown> | null;
    if (!["deploy", "boot", "test"].includes(kind)) {
      out.push({
        path: formatPath(["actions", i, kind]),
        message: `action '${kind}' is not supported by Magma (supported: deploy, boot, test)`,
      });
      return;
    }
    if (!body || typeof body !== "object") return;
    // the method key selects the schema: name it when missing rather than guessing a method
    const selector = kind === "deploy" ? "to" : kind === "boot" ? "method" : undefined;
    if (selector && body[selector] === undefined) {
      out.push({ path: formatPath(["actions", i, kind, selector]), message: "required key not provided" });
      return;
    }
    if (kind === "deploy" && typeof body["to"] === "string" && !(SUPPORTED_DEPLOY_METHODS as readonly string[]).includes(body["to"])) {
      out.push({
        path: formatPath(["actions", i, "deploy", "to"]),
        message: `deploy method '${body["to"]}' is not supported by Magma (supported: ${SUPPORTED_DEPLOY_METHODS.join(", ")})`,
      });
    }
    if (kind === "boot" && typeof body["method"] === "string" && !(SUPPORTED_BOOT_METHODS as readonly string[]).includes(body["method"])) {
      out.push({
        path: formatPath(["actions", i, "boot", "method"]),
        message: `boot method '${body["method"]}' is not supported by Magma (supported: ${SUPPORTED_BOOT_METHODS.join(", ")})`,
      });
    }
    if (kind === "test" && Array.isArray(body["definitions"])) {
      (body["definitions"] as unknown[]).forEach((d, j) => {
        const from = d && typeof d === "object" ? (d as Record<string, unknown>)["from"] : undefined;
        if (typeof from === "string" && !(SUPPORTED_TEST_SOURCES as readonly string[]).includes(from)) {
          out.push({
            path: formatPath(["actions", i, "test", "definitions", j, "from"]),
            message: `test definition source '${from}' is not supported by Magma (supported: ${SUPPORTED_TEST_SOURCES.join(", ")})`,
          });
        }
      });
    }
  });
  return out;
}

const isMapping = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/**
 * Checks what the job schema cannot: the `protocols:` block (only `lava-multinode`, in its
 * submission or sub-job form) and the `role:` of each action, as LAVA's `split_multinode_yaml` and
 * `_validate_multinode` do. In a MultiNode submission every action names the roles it runs in
 * (`role: [client, server]`, each a role of `protocols.lava-multinode.roles`) and every role has an
 * action; in a sub-job, `role` is the sub-job's role. A `role:` outside a MultiNode job is refused.
 * @returns the problems, the definition to run through the schema (actions without `role`, and a
 *   submission's `device_type` taken from its first role when absent), and whether it is a submission
 */
function multinodeProblems(raw: Record<string, unknown>): {
  errors: TDefinitionError[];
  forSchema: Record<string, unknown>;
  submission: boolean;
} {
  const errors: TDefinitionError[] = [];
  const actions = Array.isArray(raw["actions"]) ? (raw["actions"] as unknown[]) : [];
  const roleOf = (a: unknown): { kind: string; body: Record<string, unknown> } | undefined => {
    if (!isMapping(a)) return undefined;
    const [kind, body] = Object.entries(a)[0] ?? [];
    return kind !== undefined && isMapping(body) ? { kind, body } : undefined;
  };
  const protocols = raw["protocols"];
  if (protocols === undefined) {
    actions.forEach((a, i) => {
      const x = roleOf(a);
      if (x && "role" in x.body)
        errors.push({
          path: formatPath(["actions", i, x.kind, "role"]),
          message: `role is only allowed in a MultiNode job (protocols: ${MULTINODE_PROTOCOL})`,
        });
    });
    return { errors, forSchema: raw, submission: false };
  }
  if (!isMapping(protocols)) {
    errors.push({ path: formatPath(["protocols"]), message: "expected a dictionary" });
    return { errors, forSchema: raw, submission: false };
  }
  for (const name of Object.keys(protocols))
    if (name !== MULTINODE_PROTOCOL)
      errors.push({
        path: formatPath(["protocols", name]),
        message: `protocol '${name}' is not supported by Magma (supported: ${MULTINODE_PROTOCOL})`,
      });
  const block = protocols[MULTINODE_PROTOCOL];
  if (block === undefined) return { errors, forSchema: raw, submission: false };
  const parsed = ZMultinodeProtocol.safeParse(block);
  if (!parsed.success) {
    errors.push(
      ...zodIssues(parsed.error, block).map((e) => ({ ...e, path: formatPath(["protocols", MULTINODE_PROTOCOL]) + e.path.slice(4) })),
    );
    return { errors, forSchema: raw, submission: false };
  }
  const mn = parsed.data;
  const submission = mn.role === undefined;
  const rolesPath = ["protocols", MULTINODE_PROTOCOL, "roles"];
  if (submission) {
    if (!Object.keys(mn.roles).length) errors.push({ path: formatPath(rolesPath), message: "a MultiNode job needs at least one role" });
    for (const [name, role] of Object.entries(mn.roles)) {
      const r = ZMultinodeRole.safeParse(role);
      if (!r.success) errors.push({ path: formatPath([...rolesPath, name]), message: "expected a role: {device_type, count, …}" });
    }
  }
  const known = submission ? Object.keys(mn.roles) : [mn.role!];
  const used = new Set<string>();
  const stripped = actions.map((a, i) => {
    const x = roleOf(a);
    if (!x) return a;
    const path = ["actions", i, x.kind, "role"];
    const role = x.body["role"];
    const names = Array.isArray(role) ? role : [role];
    if (role === undefined)
      errors.push({ path: formatPath(path), message: "required key not provided (every action of a MultiNode job names its roles)" });
    else if (!names.length || names.some((n) => typeof n !== "string"))
      errors.push({ path: formatPath(path), message: "expected a list of role names" });
    else if (submission && !Array.isArray(role)) errors.push({ path: formatPath(path), message: "expected a list of role names" });
    else
      for (const n of names as string[]) {
        if (!known.includes(n))
          errors.push({ path: formatPath(path), message: `'${n}' is not a role of this job (roles: ${known.join(", ")})` });
        used.add(n);
      }
    const body = { ...x.body };
    delete body["role"];
    return { [x.kind]: body };
  });
  if (submission && !errors.length)
    for (const name of known)
      if (!used.has(name)) errors.push({ path: formatPath([...rolesPath, name]), message: `role '${name}' has no action` });
  const forSchema: Record<string, unknown> = { ...raw, actions: stripped };
  if (submission && forSchema["device_type"] === undefined) {
    const first = Object.values(mn.roles)[0];
    if (first && typeof first === "object") forSchema["device_type"] = first.device_type;
  }
  return { errors, forSchema, submission };
}

/**
 * Names every part of a (schema-valid) definition that would reach outside the job on the worker
 * host: image keys that are not plain names (they become directories), download URLs that are not
 * http/https, `image_arg` QEMU options outside the allow-list ({@link checkQemuJobArgs}),
 * prompts and patterns RE2 cannot run in linear time ({@link compileJobPattern}), test definition paths with `..`, and `secrets` / test `parameters` / `params` keys that
 * are not shell variable names (they become shell lines in the overlay). LAVA accepts most of
 * these; Magma refuses them at submission, and the worker checks the paths again.
 */
export function hostileInputErrors(d: TJobDefinition): TDefinitionError[] {
  const out: TDefinitionError[] = [];
  const err = (path: PropertyKey[], message: string) => out.push({ path: formatPath(path), message });
  const shellNames = (o: Record<string, unknown> | undefined, path: PropertyKey[], what: string) => {
    for (const k of Object.keys(o ?? {}))
      if (!SHELL_NAME_RE.test(k))
        err([...path, k], `${what} name '${k}' must be a shell variable name (letters, digits and '_', not starting with a digit)`);
  };
  shellNames(d.secrets, ["secrets"], "secret");
  shellNames(d.environment, ["environment"], "environment variable");
  (d.context?.extra_options ?? []).forEach((opt, k) => {
    const checked = checkQemuJobArgs(opt, "context extra_options");
    if (!checked.ok) err(["context", "extra_options", k], checked.message);
    else if (checked.placeholders.length)
      err(["context", "extra_options", k], "context extra_options cannot name images ({placeholders} belong in image_arg)");
  });
  const pattern = (p: string | undefined, path: PropertyKey[]) => {
    if (p === undefined) return;
    const c = compileJobPattern(p);
    if (!c.ok) err(path, c.message);
  };
  d.actions.forEach((a, i) => {
    if ("deploy" in a) {
      const dep = a.deploy;
      const base: PropertyKey[] = dep.to === "tmpfs" ? ["actions", i, "deploy", "images"] : ["actions", i, "deploy"];
      const images =
        dep.to === "tmpfs"
          ? Object.entries(dep.images)
          : (["kernel", "ramdisk", "dtb"] as const).flatMap((k) => (dep[k] ? [[k, dep[k]] as const] : []));
      for (const [name, image] of images) {
        const problem = imageNameProblem(name);
        if (problem) {
          err([...base, name], problem);
          continue;
        }
        const urlProblem = downloadUrlProblem(image.url);
        if (urlProblem) err([...base, name, "url"], urlProblem);
        if (image.image_arg !== undefined) {
          const checked = checkQemuJobArgs(image.image_arg);
          if (!checked.ok) err([...base, name, "image_arg"], checked.message);
          else
            for (const p of checked.placeholders)
              if (!images.some(([n]) => n === p))
                err([...base, name, "image_arg"], `image_arg refers to {${p}}, which is not an image of this deploy`);
        }
      }
    } else if ("boot" in a) {
      const b = a.boot;
      const path = ["actions", i, "boot"];
      b.prompts.forEach((p, j) => pattern(p, [...path, "prompts", j]));
      pattern(b.auto_login?.login_prompt, [...path, "auto_login", "login_prompt"]);
      pattern(b.auto_login?.password_prompt, [...path, "auto_login", "password_prompt"]);
      if (b.method === "u-boot") pattern(b.bootloader_prompt, [...path, "bootloader_prompt"]);
    } else if ("test" in a) {
      a.test.definitions.forEach((def, j) => {
        const path = ["actions", i, "test", "definitions", j];
        const p = testDefinitionPathProblem(def.path);
        if (p) err([...path, "path"], p);
        shellNames(def.parameters, [...path, "parameters"], "parameter");
        shellNames(def.params, [...path, "params"], "parameter");
        if (def.from === "inline") {
          shellNames(def.repository.params, [...path, "repository", "params"], "parameter");
          pattern(def.repository.parse?.pattern, [...path, "repository", "parse", "pattern"]);
        } else if (def.from === "git" && def.revision && def.branch) {
          err([...path, "revision"], "give either revision or branch, not both");
        } else if (def.from === "url") {
          const urlProblem = downloadUrlProblem(def.repository);
          if (urlProblem) err([...path, "repository"], urlProblem);
        }
      });
    }
  });
  return out;
}

/**
 * Parses and validates a LAVA job definition (YAML text), as LAVA's `scheduler.jobs.submit` /
 * `validate_job` do before creating a TestJob.
 *
 * @param text YAML (or JSON) job definition; at most {@link MAX_DEFINITION_BYTES} bytes (UTF-8).
 * @returns `{ok: true, definition, raw}` (raw = the plain parsed YAML, kept to store and forward the
 *   definition unchanged) or `{ok: false, errors}` where each error names the YAML path and problem.
 *   Never throws for bad input: oversize text, nesting deeper than {@link MAX_YAML_NESTING}, YAML
 *   syntax errors, duplicate keys, alias bombs,
 *   non-mapping documents, unknown keys, unsupported methods and what {@link hostileInputErrors}
 *   names all come back as errors.
 */
export function parseJobDefinition(text: string): TParseResult {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_DEFINITION_BYTES) {
    return {
      ok: false,
      errors: [{ path: "data", message: `definition is ${bytes} bytes, over the limit of ${MAX_DEFINITION_BYTES} bytes` }],
    };
  }
  const nesting = yamlNestingProblem(text);
  if (nesting) return { ok: false, errors: [{ path: "data", message: nesting }] };
  let raw: unknown;
  // the common job definition: js-yaml, same values (fast-yaml.ts); anything else the yaml library
  const fast = fastParseYaml(text);
  if (fast) raw = fast.value;
  else {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
    if (doc.errors.length) {
      return {
        ok: false,
        errors: doc.errors.map((e) => ({
          path: "data",
          message: `YAML syntax error: ${e.message.split("\n")[0]} (line ${e.linePos?.[0]?.line ?? 0})`,
        })),
      };
    }
    try {
      // a low maxAliasCount makes toJS throw on "billion laughs" documents instead of expanding them
      raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (e) {
      return { ok: false, errors: [{ path: "data", message: `YAML aliases expand too far (alias bomb?): ${(e as Error).message}` }] };
    }
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, errors: [{ path: "data", message: "expected a dictionary (YAML mapping) at the top level" }] };
  }
  const rawObj = raw as Record<string, unknown>;
  const methodErrors = unsupportedMethods(rawObj);
  if (methodErrors.length) return { ok: false, errors: methodErrors };
  const multinode = multinodeProblems(rawObj);
  if (multinode.errors.length) return { ok: false, errors: multinode.errors };
  const parsed = ZJobDefinition.safeParse(multinode.forSchema);
  if (!parsed.success) return { ok: false, errors: zodIssues(parsed.error, multinode.forSchema) };
  const hostile = hostileInputErrors(parsed.data);
  if (hostile.length) return { ok: false, errors: hostile };
  if (multinode.submission) {
    // each sub-job must be a valid job on its own (its role's device type and context)
    for (const sub of splitMultinodeDefinition(rawObj, "validation")) {
      const r = parseJobDefinition(stringifyYaml(sub.raw));
      if (!r.ok) return { ok: false, errors: r.errors.map((e) => ({ ...e, message: `role '${sub.role}': ${e.message}` })) };
    }
  }
  return { ok: true, definition: parsed.data, raw: rawObj };
}
