/** @magma/db/instance — the instance database: client factory, generated types, repositories. */
export * from "./client.ts";
export * from "../generated/instance/client";
