export * from "./timeout.ts";
export * from "./deploy.ts";
export * from "./boot.ts";
export * from "./test.ts";
export * from "./notify.ts";
export * from "./job-definition.ts";
export * from "./parse.ts";
export * from "./safety.ts";
