/**
 * Plain-HTTP clients the demo and the cross-app tests use to drive a running stack, exactly as a
 * user's script would: a lab's REST API (LAVA api/v0.2) and the frontend's tRPC and /api/v1 API.
 */

/** Error from a Magma HTTP API, with the status and the body's message. */
export class HttpApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function json<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const msg =
      (body as { message?: string; error?: { message?: string } })?.message ??
      (body as { error?: { message?: string } })?.error?.message ??
      text;
    throw new HttpApiError(res.status, `${what}: HTTP ${res.status}: ${msg}`);
  }
  return body as T;
}

/** Submits a LAVA job definition to a lab (POST /api/v0.2/jobs/, as curl would). @returns the job id */
export async function submitToLab(labUrl: string, token: string, definition: string): Promise<number> {
  const res = await fetch(`${labUrl}/api/v0.2/jobs/`, {
    method: "POST",
    headers: { authorization: `Token ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ definition }),
  });
  const body = await json<{ job_ids: number[] }>(res, `submit to ${labUrl}`);
  const id = body.job_ids[0];
  if (id === undefined) throw new Error(`submit to ${labUrl}: no job id in the answer`);
  return id;
}

/** `Authorization: Token …` of a frontend API token, or no header. */
const authOf = (token?: string): Record<string, string> => (token ? { authorization: `Token ${token}` } : {});

/**
 * Calls a tRPC mutation over HTTP (no transformer): POST /api/trpc/<path> with the input as JSON,
 * as the owner of the frontend API `token` (submissions need one).
 */
export async function trpcMutation<T>(frontendUrl: string, procedure: string, input: unknown, token?: string): Promise<T> {
  const res = await fetch(`${frontendUrl}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authOf(token) },
    body: JSON.stringify(input),
  });
  const body = await json<{ result: { data: T } }>(res, `tRPC ${procedure}`);
  return body.result.data;
}

/** Calls a tRPC query over HTTP: GET /api/trpc/<path>?input=<json>, anonymously or with a frontend API token. */
export async function trpcQuery<T>(frontendUrl: string, procedure: string, input: unknown, token?: string): Promise<T> {
  const res = await fetch(`${frontendUrl}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`, {
    headers: authOf(token),
  });
  const body = await json<{ result: { data: T } }>(res, `tRPC ${procedure}`);
  return body.result.data;
}

/** One federated job as GET /api/v1/jobs/{lab}/{id} returns it (fields the demo/tests read). */
export interface FederatedJobView {
  lab?: string;
  instance?: string;
  id?: number;
  job_id?: number;
  state: string;
  health: string;
  suites?: {
    name: string;
    tests: {
      name: string;
      result: string;
      measurement: string | null;
      unit?: string | null;
      units?: string | null;
      test_set?: string | null;
    }[];
  }[];
  [k: string]: unknown;
}

/**
 * Reads a federated job from the frontend's JSON API, or undefined while it is unknown (404) —
 * or not readable by the caller: anonymous callers see public jobs only; pass a frontend API
 * token to read personal and group jobs too.
 */
export async function getFederatedJob(frontendUrl: string, lab: string, id: number, token?: string): Promise<FederatedJobView | undefined> {
  const res = await fetch(`${frontendUrl}/api/v1/jobs/${encodeURIComponent(lab)}/${id}`, { headers: authOf(token) });
  if (res.status === 404) return undefined;
  return json<FederatedJobView>(res, `GET /api/v1/jobs/${lab}/${id}`);
}

/**
 * Polls until `probe` returns a value (not undefined) or `timeoutMs` passes.
 * @throws Error "<what> not reached within N ms" with the last probe error
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = ` (last error: ${(e as Error).message})`;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms${last}`);
}
