/**
 * @magma/db/instance — the instance database: client factory, generated types, and the
 * repositories (DTO-returning reads of jobs, results, logs, events, the reconciliation feed and the
 * inventory, with the job visibility policy applied inside them; users, groups, tokens and the lab seed).
 */
export * from "./client.ts";
export * from "./direct-sql.ts";
export * from "./dto.ts";
export * from "./repositories/job-visibility.ts";
export * from "./repositories/test-job-repository.ts";
export * from "./repositories/result-repository.ts";
export * from "./repositories/log-repository.ts";
export * from "./repositories/event-repository.ts";
export * from "./repositories/finished-job-repository.ts";
export * from "./repositories/account-repository.ts";
export * from "./repositories/lab-seed-repository.ts";
export * from "./repositories/inventory-repository.ts";
export * from "./repositories/ops-repository.ts";
export * from "./repositories/device-repository.ts";
export * from "./repositories/worker-repository.ts";
export * from "./repositories/device-type-repository.ts";
export * from "./repositories/tag-repository.ts";
export * from "./repositories/lab-admin-repository.ts";
export * from "../generated/instance/client";
