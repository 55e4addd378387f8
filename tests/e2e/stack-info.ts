import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Where global-setup writes the running stack's URLs and tokens. */
export const STACK_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "../test-results/stack.json");

/** URLs and tokens of the stack started by global-setup.ts. */
export interface StackInfo {
  frontendUrl: string;
  artifactsUrl: string;
  adminToken: string;
  /** password of the frontend users admin (superuser) and alice (team-a) */
  adminPassword: string;
  labs: { name: string; url: string; workerMetricsUrl: string | null }[];
  databases: Record<string, string>;
}

/** Reads the stack started for this test run. @throws Error if global-setup did not run. */
export function stackInfo(): StackInfo {
  return JSON.parse(readFileSync(STACK_FILE, "utf8")) as StackInfo;
}

/** A job definition from infra/demo/jobs with its image URLs pointed at this stack's image server. */
export function demoJob(file: string, artifactsUrl: string, patch: (y: string) => string = (y) => y): string {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const text = readFileSync(path.join(root, "infra/demo/jobs", file), "utf8").replaceAll("http://127.0.0.1:4100", artifactsUrl);
  return patch(text);
}
