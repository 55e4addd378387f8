import pino from "pino";
import { env } from "../env.ts";

const g = globalThis as unknown as { magmaLogger?: pino.Logger };

/** The process's one pino logger; bind ids with `.child({...})`. */
export function logger(): pino.Logger {
  return (g.magmaLogger ??= pino({ name: "magma-frontend", level: env().MAGMA_LOG_LEVEL }));
}
