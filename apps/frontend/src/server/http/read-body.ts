import { AppError } from "../app-error.ts";

/**
 * Reads a request body of at most `limit` bytes, refusing a larger one as soon as it is known:
 * from `Content-Length` before reading anything, else while streaming, the moment the running
 * total passes the limit (the rest is never read or buffered).
 * @returns the raw bytes
 * @throws AppError PAYLOAD_TOO_LARGE (413) naming the limit
 */
export async function readBodyLimited(req: Request, limit: number, what = "body"): Promise<Buffer> {
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) {
    throw new AppError("PAYLOAD_TOO_LARGE", { message: `${what} is over ${limit} bytes (Content-Length ${declared})` });
  }
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new AppError("PAYLOAD_TOO_LARGE", { message: `${what} is over ${limit} bytes` });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
