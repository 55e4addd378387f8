import { addWorker, getWorker, listWorkerHostnames, removeWorker, updateWorker } from "../workers/worker-admin.ts";
import { optBool, optInt, optStr, requirePermission, requireSuperuser, str, type RpcMethods } from "./rpc.ts";
import { healthArg } from "./scheduler-devices.ts";

const WORKER_HEALTHS = ["Active", "Maintenance", "Retired"] as const;

/** `scheduler.workers.*` (add, delete, list, show, update). */
export const schedulerWorkersMethods: RpcMethods = {
  "scheduler.workers.add": {
    help: "`scheduler.workers.add` (`hostname`, `description=None`, `disabled=False`)\n\n[superuser only] Add a worker (RETIRED when disabled). Returns the worker's token, once: Magma keeps only\nits digest, so `workers show` cannot print it as LAVA does (lavacli ignores the return value).",
    async handler(call) {
      requirePermission(call, "lava_scheduler_app.add_worker");
      const p = call.params;
      return addWorker(call.ctx, {
        hostname: str(p, 0, "hostname"),
        description: optStr(p, 1, "description"),
        disabled: optBool(p, 2, "disabled", false),
      });
    },
  },
  "scheduler.workers.delete": {
    help: "`scheduler.workers.delete` (`hostname`)\n\n[superuser only] Remove a worker (its devices stay, without a worker; refused while one runs a job).",
    async handler(call) {
      requirePermission(call, "lava_scheduler_app.delete_worker");
      await removeWorker(call.ctx, str(call.params, 0, "hostname"));
      return null;
    },
  },
  "scheduler.workers.list": {
    help: "`scheduler.workers.list` (`show_all=False`)\n\nWorker hostnames (Retired only with show_all).",
    handler: async (call) => listWorkerHostnames(call.ctx.db, optBool(call.params, 0, "show_all", false)),
  },
  "scheduler.workers.show": {
    help: "`scheduler.workers.show` (`hostname`)\n\nhostname, description, state, health, devices, last_ping, job_limit, version,\ndefault_config, default_env, default_env_dut. No token: Magma stores only its digest (LAVA shows it to superusers).",
    async handler(call) {
      const w = await getWorker(call.ctx.db, str(call.params, 0, "hostname"));
      return {
        hostname: w.hostname,
        description: w.description,
        state: w.state,
        health: w.health,
        devices: w.devices,
        last_ping: w.lastPing,
        job_limit: w.jobLimit,
        version: w.version,
        // Magma keeps no per-worker dispatcher/env files: every worker uses the defaults
        default_config: true,
        default_env: true,
        default_env_dut: true,
        // LAVA shows superusers the worker's token; Magma stores only its digest, so there is none to show
      };
    },
  },
  "scheduler.workers.update": {
    help: "`scheduler.workers.update` (`hostname`, `description=None`, `health=None`, `job_limit=None`)\n\n[superuser only] health is ACTIVE, MAINTENANCE or RETIRED.",
    async handler(call) {
      requireSuperuser(call);
      const p = call.params;
      await updateWorker(call.ctx, str(p, 0, "hostname"), {
        description: optStr(p, 1, "description"),
        health: healthArg(optStr(p, 2, "health"), WORKER_HEALTHS),
        jobLimit: optInt(p, 3, "job_limit", null),
      });
      return null;
    },
  },
};
