export * from "./worker-api.ts";
export * from "./multinode.ts";
