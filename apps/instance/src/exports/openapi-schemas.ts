import { ZErrorBody } from "@magma/protocol";

/** `{code, message}`, the error body of every REST route (protocol TErrorBody), for the OpenAPI document. */
export const ZErrorBodySchema = ZErrorBody;
