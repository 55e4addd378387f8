/**
 * Submission latency and throughput against a real instance process. Jobs target a device type
 * with no devices, so they stay Submitted (LAVA's baseline used a device in Maintenance the same
 * way); every submit still asks the scheduler for a pass, as in production.
 *  - one REST submission (POST /api/v0.2/jobs/), sequential, keep-alive: latency per request;
 *  - XML-RPC `scheduler.jobs.submit` at /RPC2 when the instance has it;
 *  - submissions/s with 1 sequential client and with 16 concurrent clients (keep-alive each).
 */
import { ADMIN_TOKEN, auth, createDatabase, httpPool, jobYaml, nowMs, req, seedLab, startInstance, warmUp } from "./lib.ts";
import { measure, notMeasured, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";
import type { Pool } from "undici";

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const xmlCall = (method: string, ...strings: string[]) =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${strings.map((s) => `<param><value><string>${xmlEscape(s)}</string></value></param>`).join("")}</params></methodCall>`;

async function xmlRpc(pool: Pool, body: string): Promise<{ status: number; text: string }> {
  const r = await pool.request({
    method: "POST",
    path: "/RPC2",
    headers: { "content-type": "text/xml", authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}` },
    body,
  });
  return { status: r.statusCode, text: await r.body.text() };
}

/** Runs `clients` loops of submissions for `seconds`; @returns submissions per second. */
async function rate(pool: Pool, clients: number, seconds: number, body: string): Promise<number> {
  const end = nowMs() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (nowMs() < end) {
        const r = await pool.request({
          method: "POST",
          path: "/api/v0.2/jobs/",
          headers: { ...auth(), "content-type": "application/json" },
          body,
        });
        await r.body.dump();
        if (r.statusCode !== 201) throw new Error(`submit: HTTP ${r.statusCode}`);
        n++;
      }
    }),
  );
  return n / seconds;
}

export async function benchSubmit(o: BenchOptions): Promise<Measure[]> {
  const db = await createDatabase("instance", "submit");
  await seedLab(db, { workers: 1, devices: [], emptyTypes: ["bench"] });
  const inst = await startInstance("submit", db);
  const one = httpPool(inst.url, 1);
  const many = httpPool(inst.url, 16);
  const definition = jobYaml("bench", "submit");
  const body = JSON.stringify({ definition });
  const out: Measure[] = [];

  // latency, sequential, after the warm-up (WARM_UP_MS of the same call)
  await warmUp(() => req(one, "POST", "/api/v0.2/jobs/", { body, headers: auth() }));
  const lat: number[] = [];
  for (let i = 0; i < (o.quick ? 300 : 1000); i++) {
    const t0 = nowMs();
    await req(one, "POST", "/api/v0.2/jobs/", { body, headers: auth() });
    lat.push(nowMs() - t0);
  }
  out.push(
    measure("submit", "one REST submission (POST /api/v0.2/jobs/)", "ms", lat, { target: { stat: "p50", op: "<", value: 2 }, lava: "24" }),
  );

  // XML-RPC, when present
  const probe = await xmlRpc(one, xmlCall("system.version")).catch(() => ({ status: 0, text: "" }));
  if (probe.status === 200 && probe.text.includes("<methodResponse")) {
    const call = xmlCall("scheduler.jobs.submit", definition);
    const first = await xmlRpc(one, call);
    if (first.status !== 200 || first.text.includes("<fault>")) {
      out.push(
        notMeasured(
          "submit",
          "one XML-RPC scheduler.jobs.submit (/RPC2)",
          "ms",
          `submit answered ${first.status}: ${first.text.slice(0, 120)}`,
          { target: { stat: "p50", op: "<", value: 2 }, lava: "24" },
        ),
      );
    } else {
      await warmUp(() => xmlRpc(one, call));
      const xl: number[] = [];
      for (let i = 0; i < (o.quick ? 200 : 500); i++) {
        const t0 = nowMs();
        const r = await xmlRpc(one, call);
        if (r.status !== 200 || r.text.includes("<fault>")) throw new Error(`XML-RPC submit failed: ${r.text.slice(0, 200)}`);
        xl.push(nowMs() - t0);
      }
      out.push(
        measure("submit", "one XML-RPC scheduler.jobs.submit (/RPC2)", "ms", xl, {
          target: { stat: "p50", op: "<", value: 2 },
          lava: "24",
        }),
      );
    }
  } else {
    out.push(
      notMeasured("submit", "one XML-RPC scheduler.jobs.submit (/RPC2)", "ms", "no /RPC2 on the instance yet", {
        target: { stat: "p50", op: "<", value: 2 },
        lava: "24",
      }),
    );
  }

  // throughput
  const seconds = o.quick ? 2 : 8;
  const reps = 3;
  const seq: number[] = [];
  const conc: number[] = [];
  for (let i = 0; i < reps; i++) {
    seq.push(await rate(one, 1, seconds, body));
    conc.push(await rate(many, 16, seconds, body));
  }
  out.push(
    measure("submit", `submissions/s, 1 sequential client (${reps}×${seconds} s)`, "jobs/s", seq, {
      target: { stat: "p50", op: ">", value: 600 },
      lava: "~40",
    }),
  );
  out.push(
    measure("submit", `submissions/s, 16 concurrent clients (${reps}×${seconds} s)`, "jobs/s", conc, {
      target: { stat: "p50", op: ">", value: 1500 },
      lava: "—",
    }),
  );
  return out;
}
