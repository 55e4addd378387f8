export * from "./worker-api.ts";
