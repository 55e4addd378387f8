/**
 * @magma/protocol — zod schemas, inferred types and constants shared by every Magma app.
 * No I/O. Schemas are `Z<Name>`, inferred types `T<Name>` (one naming rule for every schema).
 */
export * from "./errors.ts";
export * from "./job-state.ts";
export * from "./job-definition/index.ts";
export * from "./device/index.ts";
export * from "./results/index.ts";
export * from "./log/index.ts";
export * from "./worker-api/index.ts";
export * from "./instance-api/index.ts";
export * from "./notify/index.ts";
export * from "./queues/index.ts";
export * from "./federation-api/index.ts";
export * from "./builds/index.ts";
export * from "./lava-api/index.ts";
export * from "./lab-link/index.ts";
