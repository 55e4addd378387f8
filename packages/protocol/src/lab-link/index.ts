export * from "./lab-link.ts";
