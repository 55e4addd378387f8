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
});
export type TInlineTestDefinition = z.infer<typeof ZInlineTestDefinition>;

/** Test definition sources Magma runs; `git` and `url` are rejected at submission with their YAML path. */
export const SUPPORTED_TEST_SOURCES = ["inline"] as const;

/** One entry of `test: definitions:` (lava_common/schemas/test/definition.py), `from: inline`. */
export const ZTestDefinitionRef = z.strictObject({
  from: z.literal("inline"),
  name: z.string().regex(/^[-_a-zA-Z0-9.]+$/, "name may only hold letters, digits, '-', '_' and '.'"),
  path: z.string().min(1, "path must not be empty"),
  repository: ZInlineTestDefinition,
  parameters: z.record(z.string(), z.unknown()).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
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
