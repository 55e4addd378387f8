/** @magma/db/frontend — the frontend database: client factory, generated types, repositories, DTOs. */
export * from "./client.ts";
export { frontendQuery, sqlTransaction, type SqlTx, type SqlTransactionOptions } from "./direct-sql.ts";
export * from "./dto.ts";
export * from "./repositories/instance-repository.ts";
export * from "./repositories/federated-job-repository.ts";
export * from "./repositories/submission-repository.ts";
export * from "./repositories/reconcile-repository.ts";
export * from "./repositories/build-ingest.ts";
export * from "./repositories/build-repository.ts";
export * from "../generated/frontend/client";
export * from "./repositories/account-repository.ts";
export * from "./repositories/job-visibility.ts";
export * from "./repositories/transfer-repository.ts";
export * from "./repositories/lab-health-repository.ts";
export * from "./repositories/lab-link-repository.ts";
