/**
 * `npm run bench -- --against-lava URL TOKEN DEVICE_TYPE [--lava-user NAME]`: the same LAVA-API client
 * ({@link LavaApiClient}) runs against a LAVA server and a Magma instance alternately (A B A B …,
 * `rounds` rounds), and each measure reports both medians and their ratio. A user evaluating a move
 * from LAVA points this at their own lab.
 *
 * The LAVA side receives real submissions of a small QEMU job for DEVICE_TYPE; every job this bench
 * submits there is canceled right after its measure (run it on a lab where that is acceptable). The
 * Magma side is an instance process started here with its own database, where DEVICE_TYPE has no
 * device, so its jobs stay queued (the same queued-job path LAVA takes before a device is free).
 *
 * With `--lava-qemu-job FILE` (a LAVA job definition of the smallest QEMU job on that lab: HTTP
 * deploy of a kernel and initramfs, boot to a prompt), the same client also runs that job on the LAVA
 * lab and Magma's smallest QEMU job on one lab of the demo stack (instance, real worker daemon, QEMU),
 * alternately, and reports submit → Running and submit → Finished of both (server times minus the
 * client's submit time, same clock); both devices must be idle.
 */
import { readFileSync } from "node:fs";
import { LavaApiClient, type LavaTarget } from "./lava-api-client.ts";
import { ADMIN_TOKEN, createDatabase, jobYaml, nowMs, seedLab, startInstance, waitUntil } from "./lib.ts";
import { smallestJob, startQemuLab } from "./qemu.ts";
import { median, type Measure } from "./report.ts";

export interface AgainstLavaOptions {
  url: string;
  token: string;
  deviceType: string;
  user: string;
  quick: boolean;
  /** `--lava-qemu-job FILE`: the LAVA side's smallest QEMU job definition (YAML text) */
  qemuJob?: string;
}

/** Parses `--against-lava URL TOKEN DEVICE_TYPE [--lava-user NAME]` from argv; undefined when absent. @throws Error naming what is missing */
export function parseAgainstLava(args: string[], quick: boolean): AgainstLavaOptions | undefined {
  const i = args.indexOf("--against-lava");
  if (i < 0) return undefined;
  const [url, token, deviceType] = args.slice(i + 1, i + 4);
  if (!url || !token || !deviceType || [url, token, deviceType].some((a) => a.startsWith("--"))) {
    throw new Error("--against-lava needs URL TOKEN DEVICE_TYPE, e.g. --against-lava http://127.0.0.1:8000 s3cret qemu");
  }
  if (!/^https?:\/\//.test(url)) throw new Error(`--against-lava: URL must start with http:// or https:// (got '${url}')`);
  const u = args.indexOf("--lava-user");
  const q = args.indexOf("--lava-qemu-job");
  let qemuJob: string | undefined;
  if (q >= 0) {
    const file = args[q + 1];
    if (!file || file.startsWith("--"))
      throw new Error("--lava-qemu-job needs FILE: a LAVA job definition of the smallest QEMU job on that lab");
    try {
      qemuJob = readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`--lava-qemu-job: cannot read '${file}': ${(e as Error).message}`);
    }
  }
  return { url: url.replace(/\/+$/, ""), token, deviceType, user: u >= 0 && args[u + 1] ? args[u + 1]! : "admin", quick, qemuJob };
}

interface Side {
  client: LavaApiClient;
  /** every job submitted (LAVA side: canceled after each measure) */
  submitted: number[];
}

/** Side-by-side measure: medians of both sides, the ratio LAVA / Magma (or Magma / LAVA for rates). */
function sideBySide(name: string, unit: string, lava: number[], magma: number[], higherIsBetter = false): Measure {
  const l = median(lava);
  const m = median(magma);
  const ratio = higherIsBetter ? m / l : l / m;
  const r = (x: number) => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 100) / 100);
  return {
    group: "against-lava",
    name,
    unit,
    n: magma.length,
    p50: r(m),
    p95: r(Math.max(...magma)),
    max: r(Math.max(...magma)),
    lava: `${r(l)} (measured now)`,
    met: null,
    note: higherIsBetter ? `Magma ${r(ratio)}× LAVA's rate` : ratio >= 1 ? `Magma ${r(ratio)}× faster` : `Magma ${r(1 / ratio)}× slower`,
    sides: { lava: { p50: r(l), n: lava.length }, magma: { p50: r(m), n: magma.length }, ratio: r(ratio) },
  };
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    await fn();
    out.push(nowMs() - t0);
  }
  return out;
}

/**
 * Runs the side-by-side group.
 * @returns one measure per LAVA-API call (REST/XML-RPC submit, sequential submissions/s, REST and XML-RPC
 *   list of 100 jobs), each with `lava` and `magma` medians in `sides`
 * @throws Error when either server refuses the client (bad token, unknown device type)
 */
export async function benchAgainstLava(o: AgainstLavaOptions): Promise<Measure[]> {
  const db = await createDatabase("instance", "against-lava");
  await seedLab(db, { workers: 1, devices: [], emptyTypes: [o.deviceType] });
  const inst = await startInstance("against-lava", db);
  const targets: LavaTarget[] = [
    { label: "lava", url: o.url, user: o.user, token: o.token },
    { label: "magma", url: inst.url, user: "admin", token: ADMIN_TOKEN },
  ];
  const sides: Side[] = targets.map((t) => ({ client: new LavaApiClient(t), submitted: [] }));
  const definition = jobYaml(o.deviceType, "magma side-by-side bench");
  const rounds = o.quick ? 2 : 4;
  const perRound = o.quick ? 10 : 25;
  const samples = new Map<string, [number[], number[]]>();
  const add = (key: string, side: number, xs: number[]) => {
    const s = samples.get(key) ?? [[], []];
    s[side]!.push(...xs);
    samples.set(key, s);
  };
  const cancelLava = async () => {
    const lava = sides[0]!;
    for (const id of lava.submitted.splice(0)) await lava.client.cancel(id);
  };
  try {
    // both must accept the client before anything is measured
    for (const s of sides) s.submitted.push(...(await s.client.restSubmit(definition)));
    await cancelLava();
    for (let round = 0; round < rounds; round++) {
      for (const [i, s] of sides.entries()) {
        add("rest-submit", i, await timed(perRound, async () => s.submitted.push(...(await s.client.restSubmit(definition)))));
        add("rpc-submit", i, await timed(perRound, async () => s.submitted.push(...(await s.client.rpcSubmit(definition)))));
        const end = nowMs() + (o.quick ? 1000 : 2000);
        let n = 0;
        const t0 = nowMs();
        while (nowMs() < end) {
          s.submitted.push(...(await s.client.restSubmit(definition)));
          n++;
        }
        add("rate", i, [n / ((nowMs() - t0) / 1000)]);
        add("rest-list", i, await timed(perRound, () => s.client.restList(100)));
        add("rpc-list", i, await timed(perRound, () => s.client.rpcList(100)));
        if (i === 0) await cancelLava();
      }
    }
  } finally {
    await cancelLava().catch(() => {});
    for (const s of sides) await s.client.close();
  }
  const get = (k: string) => samples.get(k) ?? [[], []];
  return [
    sideBySide("one REST submission (POST /api/v0.2/jobs/)", "ms", ...get("rest-submit")),
    sideBySide("one XML-RPC scheduler.jobs.submit", "ms", ...get("rpc-submit")),
    sideBySide("submissions/s, 1 sequential client (REST)", "jobs/s", ...get("rate"), true),
    sideBySide("REST jobs list, 100 jobs", "ms", ...get("rest-list")),
    sideBySide("XML-RPC scheduler.jobs.list, 100 jobs", "ms", ...get("rpc-list")),
  ];
}

/**
 * The smallest QEMU job side by side (`--lava-qemu-job FILE`): LAVA's job from FILE on the LAVA lab and
 * Magma's smallest QEMU job ({@link smallestJob}) on a demo-stack lab, one warm-up each, then
 * alternately (A B A B). Each job is submitted over REST and read back every 100 ms until Finished.
 * @returns submit → Running (ms) and submit → Finished (s), both sides' medians and their ratio
 * @throws Error when a job does not end Complete or takes longer than 10 minutes
 */
export async function benchAgainstLavaQemu(o: AgainstLavaOptions & { qemuJob: string }): Promise<Measure[]> {
  const lab = await startQemuLab("against-lava-qemu");
  const sides = [
    { client: new LavaApiClient({ label: "lava", url: o.url, user: o.user, token: o.token }), definition: o.qemuJob },
    {
      client: new LavaApiClient({ label: "magma", url: lab.url, user: "admin", token: lab.adminToken }),
      // not `quiet`: LAVA's qemu boot waits for the kernel's "Linux version" line, so its job prints the whole boot log
      definition: smallestJob(lab.artifactsUrl, "console=ttyS0,115200"),
    },
  ];
  const running: [number[], number[]] = [[], []];
  const finished: [number[], number[]] = [[], []];
  const once = async (i: number): Promise<{ running: number; finished: number }> => {
    const { client, definition } = sides[i]!;
    const t0 = Date.now();
    const [id] = await client.restSubmit(definition);
    const j = await waitUntil(
      `${client.target.label} QEMU job ${id} Finished`,
      600_000,
      async () => {
        const x = await client.restJob(id!);
        return x.state === "Finished" ? x : null;
      },
      100,
    );
    if (j.health !== "Complete") throw new Error(`${client.target.label} QEMU job ${id} ended ${j.health}`);
    return { running: Date.parse(j.start_time!) - t0, finished: Date.parse(j.end_time!) - t0 };
  };
  try {
    for (let i = 0; i < sides.length; i++) await once(i); // warm-up: code loaded, images cached where the lab caches them
    const pairs = o.quick ? 2 : 4;
    for (let p = 0; p < pairs; p++)
      for (let i = 0; i < sides.length; i++) {
        const r = await once(i);
        running[i]!.push(r.running);
        finished[i]!.push(r.finished / 1000);
      }
  } finally {
    for (const s of sides) await s.client.close();
  }
  return [
    sideBySide("smallest QEMU job: submit → Running (REST submit, idle device)", "ms", ...running),
    sideBySide("smallest QEMU job: submit → Finished", "s", ...finished),
  ];
}
