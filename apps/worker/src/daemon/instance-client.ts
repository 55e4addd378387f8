import {
  WORKER_API_PREFIX,
  WORKER_PROTOCOL_VERSION,
  WORKER_TOKEN_HEADER,
  ZJobBundle,
  ZLogUploadResponse,
  ZPingResponse,
  ZMultinodeResponse,
  type TMultinodeRequest,
  type TMultinodeResponse,
  type TJobBundle,
  type TJobStateUpdate,
  type TLogUpload,
  type TLogUploadResponse,
  type TPingResponse,
} from "@magma/protocol";

/** Per-request timeout of job calls, in ms (the ping adds its long-poll wait to it). */
const REQUEST_TIMEOUT_MS = 30_000;

/** An HTTP answer outside 2xx: `status` 0 for a network error or timeout. */
export class InstanceHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "InstanceHttpError";
  }
  /** Worth retrying: network error, timeout, 5xx (LAVA treats them all as 503 and retries). */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

/**
 * The instance's worker API (protocol `worker-api/`), over native fetch — the worker's only HTTP
 * client of its instance (LAVA's lava-worker and lava-run both talk to the server through one set
 * of calls): ping (long-poll), job bundle, state reports, log upload. Every call has a timeout
 * (AbortSignal.timeout, {@link REQUEST_TIMEOUT_MS} plus the ping's wait) and can be aborted.
 */
export class InstanceClient {
  private readonly baseUrl: string;

  /** @param baseUrl the instance, e.g. http://127.0.0.1:4001 (a trailing slash is dropped) */
  constructor(
    baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  private async call(
    path: string,
    init: RequestInit & { token: string; timeoutMs: number; signal?: AbortSignal | undefined },
  ): Promise<unknown> {
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
    const body = await this.call(`/workers/${encodeURIComponent(name)}/?${q}`, {
      token: workerToken,
      timeoutMs: waitMs + REQUEST_TIMEOUT_MS,
      signal,
    });
    return ZPingResponse.parse(body);
  }

  /** `GET /jobs/<id>/` with the job token → the job bundle. */
  async jobBundle(jobId: number, jobToken: string, signal?: AbortSignal): Promise<TJobBundle> {
    return ZJobBundle.parse(await this.call(`/jobs/${jobId}/`, { token: jobToken, timeoutMs: REQUEST_TIMEOUT_MS, signal }));
  }

  /** `POST /jobs/<id>/` with a state update (idempotent on the instance side). */
  async postState(jobId: number, jobToken: string, update: TJobStateUpdate, signal?: AbortSignal): Promise<void> {
    await this.call(`/jobs/${jobId}/`, {
      method: "POST",
      token: jobToken,
      body: JSON.stringify(update),
      timeoutMs: REQUEST_TIMEOUT_MS,
      signal,
    });
  }

  /**
   * `POST /jobs/<id>/logs/` with the job token: one batch of log records from `index` on.
   * @returns `line_count`, how many of the lines the instance consumed (it skips those it already stored).
   * @throws InstanceHttpError on a network error, a timeout, a non-2xx answer or a body that is not JSON; a ZodError when the answer is not a TLogUploadResponse.
   */
  async uploadLogs(jobId: number, jobToken: string, upload: TLogUpload, signal?: AbortSignal): Promise<TLogUploadResponse> {
    const body = await this.call(`/jobs/${jobId}/logs/`, {
      method: "POST",
      token: jobToken,
      body: JSON.stringify(upload),
      timeoutMs: REQUEST_TIMEOUT_MS,
      signal,
    });
    return ZLogUploadResponse.parse(body);
  }

  /**
   * `POST /jobs/<id>/multinode/` with the job token: one MultiNode coordination call, long-polled
   * for up to `request.wait_ms` on the instance.
   * @throws InstanceHttpError (network, timeout, non-2xx); a ZodError when the answer is not a TMultinodeResponse
   */
  async multinode(jobId: number, jobToken: string, request: TMultinodeRequest, signal?: AbortSignal): Promise<TMultinodeResponse> {
    const body = await this.call(`/jobs/${jobId}/multinode/`, {
      method: "POST",
      token: jobToken,
      body: JSON.stringify(request),
      timeoutMs: (request.wait_ms ?? 0) + REQUEST_TIMEOUT_MS,
      signal,
    });
    return ZMultinodeResponse.parse(body);
  }
}
