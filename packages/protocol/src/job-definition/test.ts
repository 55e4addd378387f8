import { z } from "zod";
import { ZTimeout } from "./timeout.ts";

/** An inline Lava-Test Test Definition 1.0 (the `repository:` mapping of a `from: inline` definition). */
export const ZInlineTestDefinition = z.looseObject({
  metadata: z.looseObject({
    format: z.string().min(1, "metadata.format is required"),
    name: z.string().min(1, "metadata.name is required"),
    description: z.string().optional(),
  }),
  run: z.looseObject({ steps: z.array(z.union([z.string(), z.number()]).transform(String)) }).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  parse: z.looseObject({ pattern: z.string(), fixupdict: z.record(z.string(), z.string()).optional() }).optional(),
  /** LAVA's install section: `deps` (packages; skipped on DUTs without a package manager Magma drives), `steps` (shell lines run before the test) */
  install: z
    .looseObject({
      deps: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
      steps: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
    })
    .optional(),
  /** LAVA 2025.12+: the test cases this definition must report; a missing one is reported as fail, an unlisted one forced to fail */
  expected: z.array(z.string().min(1)).optional(),
});
export type TInlineTestDefinition = z.infer<typeof ZInlineTestDefinition>;

/** Test definition sources Magma runs (all of LAVA's: inline, git, url); any other is rejected at submission with its YAML path. */
export const SUPPORTED_TEST_SOURCES = ["inline", "git", "url"] as const;

const refName = z.string().regex(/^[-_a-zA-Z0-9.]+$/, "name may only hold letters, digits, '-', '_' and '.'");
const refParams = z.record(z.string(), z.unknown()).optional();
/**
 * `expected:` (LAVA 2025.12+, lava_dispatcher/actions/test/mixins.py): the test case ids the
 * definition must report; overrides the test definition's own list. Missing cases are reported as
 * `fail` (also when the definition never ran), cases not listed are forced to `fail`.
 */
const refExpected = z.array(z.string().min(1, "expected test case ids must not be empty")).optional();
/** A git branch, tag or commit as the worker hands it to git: never an option (no leading '-'), no spaces. */
const gitRef = z
  .string()
  .regex(
    /^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}$/,
    "must be a git branch, tag or commit (letters, digits, '_', '.', '/', '-'; not starting with '-')",
  );

/** `from: inline`: the Lava-Test Test Definition itself under `repository:`. */
export const ZInlineTestDefinitionRef = z.strictObject({
  from: z.literal("inline"),
  name: refName,
  path: z.string().min(1, "path must not be empty"),
  repository: ZInlineTestDefinition,
  parameters: refParams,
  params: refParams,
  expected: refExpected,
});
export type TInlineTestDefinitionRef = z.infer<typeof ZInlineTestDefinitionRef>;

/**
 * `from: git` (LAVA's GitRepoAction): the worker clones `repository` — http, https or git URLs only,
 * never `file://`, `ssh` or `ext::`, which would reach the worker host — shallow (`--depth=1`) unless
 * `revision` is set or `shallow: false`, checks out `branch` or `revision`, and reads the test
 * definition at `path` inside the clone; the clone becomes the test's directory on the DUT.
 */
export const ZGitTestDefinitionRef = z.strictObject({
  from: z.literal("git"),
  name: refName,
  path: z.string().min(1, "path must not be empty"),
  repository: z.string().regex(/^(https?|git):\/\/[^\s'"\\]+$/, "repository must be an http://, https:// or git:// URL"),
  revision: gitRef.optional(),
  branch: gitRef.optional(),
  shallow: z.boolean().optional(),
  history: z.boolean().optional(),
  parameters: refParams,
  params: refParams,
  expected: refExpected,
});
export type TGitTestDefinitionRef = z.infer<typeof ZGitTestDefinitionRef>;

/**
 * `from: url` (LAVA's UrlRepoAction): the worker downloads `repository` (http or https only, with the
 * image downloads' size cap and redirect rules, `headers` sent), unpacks it with `tar -xf` (gz, xz,
 * bz2 detected by tar; `strip-components` as tar's) into the test's directory and reads the test
 * definition at `path`. A download that is not a tarball is taken as the test definition file
 * itself, stored at `path` (LAVA only untars). `compression` is accepted as LAVA does and left to
 * tar's detection.
 */
export const ZUrlTestDefinitionRef = z.strictObject({
  from: z.literal("url"),
  name: refName,
  path: z.string().min(1, "path must not be empty"),
  repository: z.string().regex(/^https?:\/\/[^\s'"\\]+$/, "repository must be an http:// or https:// URL"),
  compression: z.enum(["gz", "xz", "bz2", "zstd"]).optional(),
  "strip-components": z.number().int().min(0).max(32).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  parameters: refParams,
  params: refParams,
  expected: refExpected,
});
export type TUrlTestDefinitionRef = z.infer<typeof ZUrlTestDefinitionRef>;

/** One entry of `test: definitions:` (lava_common/schemas/test/definition.py): `from: inline`, `git` or `url`. */
export const ZTestDefinitionRef = z.discriminatedUnion("from", [ZInlineTestDefinitionRef, ZGitTestDefinitionRef, ZUrlTestDefinitionRef]);
export type TTestDefinitionRef = z.infer<typeof ZTestDefinitionRef>;

/** `test:` action with `definitions:` (lava-test-shell). */
export const ZTestAction = z.strictObject({
  definitions: z.array(ZTestDefinitionRef).min(1, "definitions must list at least one test definition"),
  timeout: ZTimeout.optional(),
  namespace: z.string().optional(),
  connection: z.string().optional(),
  failure_retry: z.number().int().positive().optional(),
  name: z.string().optional(),
});
export type TTestAction = z.infer<typeof ZTestAction>;
