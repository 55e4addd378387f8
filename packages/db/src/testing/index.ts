/** @magma/db/testing — helpers for integration tests against the real PostgreSQL. */
export * from "./create-test-database.ts";
