export * from "./instance-api.ts";
