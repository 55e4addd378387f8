export * from "./federation-api.ts";
