import { z } from "zod";
import { ERROR_CODES } from "@magma/protocol";

/** `{code, message}`, the error body of every REST route (protocol TErrorBody), for the OpenAPI document. */
export const ZErrorBodySchema = z.object({ code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES]), message: z.string() });
