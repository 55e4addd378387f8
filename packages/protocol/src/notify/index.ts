export * from "./payload.ts";
