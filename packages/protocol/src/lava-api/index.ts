export * from "./lava-api.ts";
