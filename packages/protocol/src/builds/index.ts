export * from "./builds.ts";
