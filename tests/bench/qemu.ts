/**
 * What Magma adds to the smallest real QEMU job (issue #15: < 0.3 s): one lab of the demo stack
 * (instance, real worker daemon with one QEMU device, frontend, DUT image server; infra/demo/stack.ts)
 * runs the smallest job — deploy the DUT's kernel and initramfs over HTTP to tmpfs, boot QEMU to the
 * shell prompt, nothing else — and, alternately in the same run, the same DUT is booted by a bare
 * QEMU with the same machine options, timed from spawn to the same prompt on its console. The
 * overhead of one pair is (submit → Finished) − (bare boot to the prompt).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { parse, stringify } from "yaml";
import { startStack } from "../../infra/demo/stack.ts";
import { PG_URL, REDIS_URL, ROOT, RUN_ID, STATE_DIR, adminQuery, freePort, httpPool, nowMs, onCleanup, req, waitUntil } from "./lib.ts";
import { measure, type Measure } from "./report.ts";
import type { BenchOptions } from "./run.ts";

const PROMPT = "magma-dut:/# ";
const KERNEL_ARGS = "console=ttyS0,115200 quiet";

/** The smallest QEMU job: HTTP deploy of kernel + initramfs to tmpfs, boot to the prompt (`kernelArgs`: the kernel command line). */
export function smallestJob(artifactsUrl: string, kernelArgs = KERNEL_ARGS): string {
  return stringify({
    device_type: "qemu",
    job_name: "bench-smallest-qemu",
    visibility: "public",
    timeouts: { job: { minutes: 5 }, action: { minutes: 3 }, connection: { minutes: 2 } },
    actions: [
      {
        deploy: {
          to: "tmpfs",
          os: "oe",
          images: {
            kernel: { image_arg: `-kernel {kernel} -append "${kernelArgs}"`, url: `${artifactsUrl}/vmlinuz` },
            initrd: { image_arg: "-initrd {initrd}", url: `${artifactsUrl}/initramfs.cpio.gz` },
          },
        },
      },
      { boot: { method: "qemu", media: "tmpfs", prompts: [PROMPT] } },
    ],
  });
}

/** Boots the DUT in a bare QEMU (the lab's device-type settings) and times spawn → prompt, ms. */
function bareBoot(dut: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const q = spawn(
      "qemu-system-x86_64",
      [
        ...["-machine", "pc,accel=tcg", "-m", "256", "-smp", "1", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot"],
        ...["-kernel", path.join(dut, "vmlinuz"), "-initrd", path.join(dut, "initramfs.cpio.gz"), "-append", KERNEL_ARGS],
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let out = "";
    const timer = setTimeout(() => {
      q.kill("SIGKILL");
      reject(new Error(`bare QEMU: no prompt within 180 s; console tail: ${out.slice(-500)}`));
    }, 180_000);
    q.stdout.on("data", (b: Buffer) => {
      out += b.toString("latin1");
      if (out.includes(PROMPT)) {
        const t = nowMs() - t0;
        clearTimeout(timer);
        q.kill("SIGKILL");
        resolve(t);
      }
    });
    q.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function benchQemu(o: BenchOptions): Promise<Measure[]> {
  const { url, adminToken, artifactsUrl } = await startQemuLab("qemu");
  const pool = httpPool(url, 1);
  const headers = { authorization: `Token ${adminToken}` };
  const definition = smallestJob(artifactsUrl);
  /** submit → Finished of one smallest job, ms (to the job's end_time, same clock). @throws unless Complete */
  let lastJob: { id: number; submitted: number; start: string | null; end: string } | undefined;
  const job = async (): Promise<number> => {
    const t0 = nowMs();
    const [jobId] = (await req<{ job_ids: number[] }>(pool, "POST", "/api/v0.2/jobs/", { body: { definition }, headers })).body.job_ids;
    const done = await waitUntil(
      `QEMU job ${jobId} Finished`,
      300_000,
      async () => {
        const j = (
          await req<{ state: string; health: string; start_time: string | null; end_time: string | null }>(
            pool,
            "GET",
            `/api/v0.2/jobs/${jobId}/`,
            { headers },
          )
        ).body;
        return j.state === "Finished" ? j : null;
      },
      50,
    );
    if (done.health !== "Complete") throw new Error(`QEMU job ${jobId} ended ${done.health} (see ${STATE_DIR}/qemu-stack/logs)`);
    lastJob = { id: jobId!, submitted: t0, start: done.start_time, end: done.end_time! };
    return new Date(done.end_time!).getTime() - t0;
  };
  const dut = path.join(ROOT, ".magma/dut");
  await job(); // warm-up: the worker's first job, code paths loaded
  const pairs = o.quick ? 2 : 5;
  const overhead: number[] = [];
  const bare: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const b = await bareBoot(dut);
    const j = await job();
    bare.push(b);
    full.push(j);
    overhead.push((j - b) / 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const m = measure("qemu", "smallest QEMU job: submit → Finished minus a bare QEMU boot of the same DUT to its prompt", "s", overhead, {
    target: { stat: "p50", op: "<", value: 0.3 },
    lava: "10.5 s job (side by side)",
    note: `${pairs} pairs, alternately; job p50 ${(med(full) / 1000).toFixed(2)} s, bare boot p50 ${(med(bare) / 1000).toFixed(2)} s (TCG, shared machine)`,
  });
  // a job cannot take less than its own boot: a negative difference means the boot time varies by
  // more than the overhead on this machine — inconclusive, never reported as met
  if (m.p50 < 0) {
    m.met = false;
    m.note += "; INCONCLUSIVE: negative, the boot-time noise exceeds the overhead (run on an idle machine, full mode)";
  }
  m.note += `; last job: ${await phases(lastJob!)}`;
  return [m];

  /** Where the last job's time went, from its own log (LAVA's start:/end: lines): "queue 60 ms, validate 230 ms, …". */
  async function phases(j: NonNullable<typeof lastJob>): Promise<string> {
    const r = await pool.request({ method: "GET", path: `/api/v0.2/jobs/${j.id}/logs/`, headers });
    const lines = (parse(await r.body.text()) ?? []) as { dt: string; msg: unknown }[];
    const at = (re: RegExp) => {
      const l = lines.find((x) => typeof x.msg === "string" && re.test(x.msg));
      return l ? new Date(`${l.dt}Z`).getTime() : NaN;
    };
    const start = j.start ? new Date(j.start).getTime() : NaN;
    const marks: [string, number][] = [
      ["queue", j.submitted],
      ["validate", start],
      ["deploy", at(/^start: 1 /)],
      ["QEMU start", at(/^start: 2\.1 /)],
      ["boot to the prompt", at(/^start: 2\.2 /)],
      ["finalize and report", at(/^end: 2\.2 /)],
      ["end", new Date(j.end).getTime()],
    ];
    return marks
      .slice(0, -1)
      .map(([name, t], i) => `${name} ${Math.round(marks[i + 1]![1] - t)} ms`)
      .join(", ");
  }
}

/** A running one-device QEMU lab of the demo stack: the lab's instance URL, its admin token, the DUT image server. */
export interface QemuLab {
  url: string;
  adminToken: string;
  artifactsUrl: string;
}

/**
 * Starts one lab of the demo stack (instance, real worker daemon with one QEMU device `qemu`,
 * frontend, DUT image server; fresh databases) for the QEMU rows; stopped and dropped at the bench's
 * cleanup. `label` names its databases, queues and state folder.
 */
export async function startQemuLab(label: string): Promise<QemuLab> {
  const id = `bench_${RUN_ID}_${label}`;
  const adminToken = randomBytes(18).toString("base64url");
  const stack = await startStack({
    id,
    labs: [{ name: "lab-q", port: await freePort(), devices: 1 }],
    frontendPort: await freePort(),
    pgUrl: PG_URL,
    redisUrl: REDIS_URL,
    queuePrefix: `magma-bench-${RUN_ID}-${label}`,
    adminToken,
    stateDir: path.join(STATE_DIR, `${label}-stack`),
    dutDir: path.join(ROOT, ".magma/dut"),
    freshDatabases: true,
    instanceEnv: { MAGMA_LOG_LEVEL: "warn" },
    frontendEnv: { MAGMA_LOG_LEVEL: "warn" },
  });
  onCleanup(`${label} stack`, async () => {
    await stack.stop();
    for (const db of Object.values(stack.databases))
      await adminQuery(`DROP DATABASE IF EXISTS "${new URL(db).pathname.slice(1)}" WITH (FORCE)`);
  });
  return { url: stack.labs[0]!.url, adminToken, artifactsUrl: stack.artifactsUrl };
}
