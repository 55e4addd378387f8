/**
 * A LAVA-API client for side-by-side measurements: the calls a CI system or lavacli makes, over
 * LAVA 2023.01's REST API v0.2 (`Authorization: Token …`) and XML-RPC (`/RPC2`, HTTP Basic
 * user:token), so the same code drives a LAVA server and a Magma instance.
 */
import { Deserializer, serializeMethodCall, XmlRpcFault, type XmlRpcValue } from "@foxglove/xmlrpc";
import { Pool } from "undici";
import { readMethodResponse } from "./xmlrpc-response.ts";

export interface LavaTarget {
  /** "lava" or "magma": the column the figures go to */
  label: string;
  /** base URL, e.g. http://lava.example:8000 (no trailing slash) */
  url: string;
  user: string;
  token: string;
}

/** The part of LAVA's REST job detail the side-by-side bench reads (times as LAVA gives them, ISO 8601 UTC). */
export interface RestJobTimes {
  state: string;
  health: string;
  submit_time: string | null;
  start_time: string | null;
  end_time: string | null;
}

/**
 * A client bound to one server: one keep-alive HTTP connection for REST and XML-RPC. XML-RPC
 * requests are written with @foxglove/xmlrpc's serializer; answers are read with a small reader
 * ({@link readMethodResponse}, about as fast as lavacli's expat-based `xmlrpc.client`), falling back
 * to @foxglove/xmlrpc's Deserializer for anything it does not handle.
 */
export class LavaApiClient {
  private readonly pool: Pool;
  private readonly rpcPath: string;
  private readonly basic: string;

  constructor(readonly target: LavaTarget) {
    this.pool = new Pool(target.url, { connections: 1, pipelining: 1, keepAliveTimeout: 60_000 });
    this.rpcPath = `${new URL(target.url).pathname.replace(/\/$/, "")}/RPC2`;
    this.basic = Buffer.from(`${target.user}:${target.token}`).toString("base64");
  }

  /** One XML-RPC call. @throws XmlRpcFault for a fault, Error naming the status for a non-200 answer */
  private async rpc(method: string, params: XmlRpcValue[]): Promise<unknown> {
    const r = await this.pool.request({
      method: "POST",
      path: this.rpcPath,
      headers: { authorization: `Basic ${this.basic}`, "content-type": "text/xml", accept: "text/xml" },
      body: serializeMethodCall(method, params),
    });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${this.target.label} XML-RPC ${method}: HTTP ${r.statusCode}: ${text.slice(0, 300)}`);
    const read = readMethodResponse(text);
    if (!read) return new Deserializer().deserializeMethodResponse(text);
    if ("fault" in read) throw new XmlRpcFault(read.fault.faultString, read.fault.faultCode);
    return read.value;
  }

  /** REST `POST /api/v0.2/jobs/` {definition} → the new job ids. @throws Error naming the status and body */
  async restSubmit(definition: string): Promise<number[]> {
    const r = await this.pool.request({
      method: "POST",
      path: "/api/v0.2/jobs/",
      headers: { authorization: `Token ${this.target.token}`, "content-type": "application/json" },
      body: JSON.stringify({ definition }),
    });
    const text = await r.body.text();
    if (r.statusCode !== 201) throw new Error(`${this.target.label} REST submit: HTTP ${r.statusCode}: ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { job_ids: number[] }).job_ids;
  }

  /** XML-RPC `scheduler.jobs.submit(definition)` → the new job ids (LAVA answers one id or a list). */
  async rpcSubmit(definition: string): Promise<number[]> {
    const r = await this.rpc("scheduler.jobs.submit", [definition]);
    return (Array.isArray(r) ? r : [r]).map((x) => Number(x));
  }

  /** XML-RPC `scheduler.jobs.list(state, health, start, limit)` → how many jobs it returned. */
  async rpcList(limit: number): Promise<number> {
    const r = await this.rpc("scheduler.jobs.list", [null as unknown as string, null as unknown as string, 0, limit]);
    return Array.isArray(r) ? r.length : 0;
  }

  /** REST `GET /api/v0.2/jobs/?limit=N` → how many jobs it returned. */
  async restList(limit: number): Promise<number> {
    const r = await this.pool.request({
      method: "GET",
      path: `/api/v0.2/jobs/?limit=${limit}&ordering=-id`,
      headers: { authorization: `Token ${this.target.token}` },
    });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${this.target.label} REST list: HTTP ${r.statusCode}: ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { results: unknown[] }).results.length;
  }

  /**
   * REST `GET /api/v0.2/jobs/<id>/` → the job's state, health and times (ISO 8601 text, null until set).
   * @throws Error naming the status and body
   */
  async restJob(id: number): Promise<RestJobTimes> {
    const r = await this.pool.request({
      method: "GET",
      path: `/api/v0.2/jobs/${id}/`,
      headers: { authorization: `Token ${this.target.token}` },
    });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${this.target.label} REST job ${id}: HTTP ${r.statusCode}: ${text.slice(0, 300)}`);
    const j = JSON.parse(text) as RestJobTimes;
    return { state: j.state, health: j.health, submit_time: j.submit_time, start_time: j.start_time, end_time: j.end_time };
  }

  /** XML-RPC `scheduler.jobs.cancel(id)`; a job already finished is not an error. */
  async cancel(id: number): Promise<void> {
    try {
      await this.rpc("scheduler.jobs.cancel", [id]);
    } catch {
      /* finished or canceled already */
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
