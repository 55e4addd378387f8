import http from "node:http";
import https from "node:https";
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
/**
 * How long an idle keep-alive connection is kept, in ms: well under the instance's keep-alive
 * timeout (Fastify's default is 72 s), so the client never reuses a connection the server is closing.
 */
const IDLE_SOCKET_MS = 4_000;
/** Error codes of a kept-alive connection the server closed as the request was written: the request never arrived. */
const STALE_SOCKET_CODES = new Set(["ECONNRESET", "EPIPE"]);

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

/** One HTTP exchange's outcome: status and the whole body as text. */
interface RawAnswer {
  status: number;
  text: string;
}

/**
 * The instance's worker API (protocol `worker-api/`) — the worker's only HTTP client of its instance
 * (LAVA's lava-worker and lava-run both talk to the server through one set of calls): ping
 * (long-poll), job bundle, state reports, log upload, MultiNode. Over `node:http`/`node:https` with
 * one keep-alive agent (TCP_NODELAY, connections reused, so a job's calls pay no TCP handshake; a
 * long-poll in flight holds its own connection) rather than global fetch, whose undici and llhttp
 * WASM would cost the idle daemon about 10 MB. Every call has a timeout ({@link REQUEST_TIMEOUT_MS}
 * plus the ping's wait) and can be aborted; a request that meets a kept-alive connection closed by
 * the server (ECONNRESET/EPIPE before any answer) is sent again once on a new connection.
 */
export class InstanceClient {
  private readonly baseUrl: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  /**
   * @param baseUrl the instance, e.g. http://127.0.0.1:4001 (a trailing slash is dropped)
   * @throws Error when `baseUrl` is not an http or https URL
   */
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    const protocol = new URL(this.baseUrl).protocol;
    if (protocol !== "http:" && protocol !== "https:") throw new Error(`instance URL '${baseUrl}': only http and https are supported`);
    this.transport = protocol === "https:" ? https : http;
    const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: "lifo" as const };
    this.agent = protocol === "https:" ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** Closes the idle kept-alive connections (in-flight requests finish). */
  close(): void {
    this.agent.destroy();
  }

  /** Sends one request; resolves with the status and body text. @throws the socket's or the signal's error */
  private exchange(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<RawAnswer & { reused: boolean }> {
    return new Promise((resolve, reject) => {
      const req = this.transport.request(url, { method, headers, agent: this.agent, signal }, (res) => {
        res.setEncoding("utf8");
        let text = "";
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, reused: req.reusedSocket }));
        res.on("error", reject);
        res.on("close", () => {
          if (!res.complete) reject(new Error("connection closed before the answer ended"));
        });
      });
      req.on("error", (e: NodeJS.ErrnoException) => {
        (e as NodeJS.ErrnoException & { reused?: boolean }).reused = req.reusedSocket;
        reject(e);
      });
      req.end(body);
    });
  }

  private async call(
    path: string,
    init: { method?: string; body?: string; token: string; timeoutMs: number; signal?: AbortSignal | undefined },
  ): Promise<unknown> {
    const method = init.method ?? "GET";
    const url = `${this.baseUrl}${WORKER_API_PREFIX}${path}`;
    const signal = AbortSignal.any([AbortSignal.timeout(init.timeoutMs), ...(init.signal ? [init.signal] : [])]);
    const headers: Record<string, string> = { [WORKER_TOKEN_HEADER]: init.token, accept: "application/json" };
    if (init.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(init.body));
    }
    let res: RawAnswer;
    try {
      try {
        res = await this.exchange(url, method, headers, init.body, signal);
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { reused?: boolean };
        if (!err.reused || !STALE_SOCKET_CODES.has(err.code ?? "") || signal.aborted) throw e;
        res = await this.exchange(url, method, headers, init.body, signal);
      }
    } catch (e) {
      if (init.signal?.aborted) throw init.signal.reason;
      const why = signal.aborted ? `no answer within ${init.timeoutMs} ms` : (e as Error).message;
      throw new InstanceHttpError(0, `${method} ${url}: ${why}`);
    }
    const { status, text } = res;
    if (status < 200 || status > 299) throw new InstanceHttpError(status, `${method} ${url} answered ${status}: ${text.slice(0, 300)}`);
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new InstanceHttpError(status, `${method} ${url}: answer is not JSON: ${text.slice(0, 200)}`);
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
