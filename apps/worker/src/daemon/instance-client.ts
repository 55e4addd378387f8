import {
  WORKER_API_PREFIX,
  WORKER_PROTOCOL_VERSION,
  WORKER_TOKEN_HEADER,
  ZJobBundle,
  ZPingResponse,
  type TJobBundle,
  type TJobStateUpdate,
  type TPingResponse,
} from "@magma/protocol";

/** Per-request timeout of job calls, in ms (the ping adds its long-poll wait to it). */
const REQUEST_TIMEOUT_MS = 30_000;

/** An HTTP answer outside 2xx: `status` 0 for a network error or timeout. */
export class InstanceHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "InstanceHttpError";
  }
  /** Worth retrying: network error, timeout, 5xx (LAVA treats them all as 503 and retries). */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

/**
 * The instance's worker API (protocol `worker-api/`), over native fetch: ping (long-poll), job
 * bundle, state reports. Every call has a timeout (AbortSignal.timeout) and can be aborted.
 */
export class InstanceClient {
  constructor(private readonly baseUrl: string, private readonly fetchImpl: typeof fetch = fetch) {}

  private async call(path: string, init: RequestInit & { token: string; timeoutMs: number; signal?: AbortSignal | undefined }): Promise<unknown> {
    const url = `${this.baseUrl}${WORKER_API_PREFIX}${path}`;
    const signal = AbortSignal.any([AbortSignal.timeout(init.timeoutMs), ...(init.signal ? [init.signal] : [])]);
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method: init.method ?? "GET",
        headers: { [WORKER_TOKEN_HEADER]: init.token, ...(init.body ? { "content-type": "application/json" } : {}) },
        body: init.body ?? null,
        signal,
      });
    } catch (e) {
      if (init.signal?.aborted) throw init.signal.reason;
      const cause = (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message;
      throw new InstanceHttpError(0, `${init.method ?? "GET"} ${url}: ${cause}`);
    }
    const text = await res.text().catch(() => "");
    if (!res.ok) throw new InstanceHttpError(res.status, `${init.method ?? "GET"} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new InstanceHttpError(res.status, `${init.method ?? "GET"} ${url}: answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /**
   * Long-poll ping: `GET /workers/<name>/?version=…&wait_ms=…` with the worker token.
   * @throws InstanceHttpError (409 = protocol version mismatch).
   */
  async ping(name: string, workerToken: string, waitMs: number, signal?: AbortSignal): Promise<TPingResponse> {
    const q = new URLSearchParams({ version: WORKER_PROTOCOL_VERSION, wait_ms: String(waitMs) });
    const body = await this.call(`/workers/${encodeURIComponent(name)}/?${q}`, { token: workerToken, timeoutMs: waitMs + REQUEST_TIMEOUT_MS, signal });
    return ZPingResponse.parse(body);
  }

  /** `GET /jobs/<id>/` with the job token → the job bundle. */
  async jobBundle(jobId: number, jobToken: string, signal?: AbortSignal): Promise<TJobBundle> {
    return ZJobBundle.parse(await this.call(`/jobs/${jobId}/`, { token: jobToken, timeoutMs: REQUEST_TIMEOUT_MS, signal }));
  }

  /** `POST /jobs/<id>/` with a state update (idempotent on the instance side). */
  async postState(jobId: number, jobToken: string, update: TJobStateUpdate, signal?: AbortSignal): Promise<void> {
    await this.call(`/jobs/${jobId}/`, { method: "POST", token: jobToken, body: JSON.stringify(update), timeoutMs: REQUEST_TIMEOUT_MS, signal });
  }
}
