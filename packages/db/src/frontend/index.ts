/** @magma/db/frontend — the frontend database: client factory, generated types, repositories. */
export * from "./client.ts";
export * from "../generated/frontend/client";
