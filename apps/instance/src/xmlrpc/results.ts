import { listCasesForExport as loadCases, listSuiteNames as loadSuites } from "@magma/db/instance";
import { casesToCsv, casesToYaml, suitesToCsv, suitesToYaml } from "../exports/results-export.ts";
import { optInt, requireRpcUser, RpcFault, str, type RpcCall, type RpcMethods } from "./rpc.ts";
import { visibleJob } from "./scheduler-jobs.ts";

/**
 * LAVA's results methods ask for a token even for public jobs ("provided the user is authenticated
 * with an username and token"); lavacli always sends one, so we copy that.
 */
async function jobFor(call: RpcCall) {
  requireRpcUser(call);
  return visibleJob(call, call.params[0]);
}

async function suiteCases(call: RpcCall, format: "yaml" | "csv") {
  const job = await jobFor(call);
  const suite = str(call.params, 1, "suite_name");
  const limit = optInt(call.params, 2, "limit", null) ?? undefined;
  const offset = optInt(call.params, 3, "offset", null) ?? undefined;
  const suites = await loadSuites(call.ctx.db, job.id);
  if (!suites.some((s) => s.name === suite)) throw new RpcFault(404, `Suite '${suite}' was not found in job ${job.id}.`);
  const rows = await loadCases(call.ctx.db, { jobId: job.id, suite, limit, offset });
  return format === "yaml" ? casesToYaml(rows) : casesToCsv(rows);
}

async function oneCase(call: RpcCall, format: "yaml" | "csv") {
  const job = await jobFor(call);
  const suite = str(call.params, 1, "suite_name");
  const name = str(call.params, 2, "case_name");
  const rows = await loadCases(call.ctx.db, { jobId: job.id, suite, caseName: name });
  if (!rows.length) throw new RpcFault(404, `Test case '${name}' was not found in suite '${suite}' of job ${job.id}.`);
  return format === "yaml" ? casesToYaml(rows) : casesToCsv(rows);
}

const h = (sig: string, what: string) => `\`${sig}\`\n\n${what}\nRequires a user and token (fault 401 otherwise); fault 404 for an unknown job, suite or case.`;

/** `results.*`: LAVA's results exports as YAML/CSV strings (columns and value shapes of LAVA's export_testcase). */
export const resultsMethods: RpcMethods = {
  "results.get_testjob_results_yaml": {
    help: h("get_testjob_results_yaml (job_id)", "Every test case of the job as YAML."),
    async handler(call) {
      const job = await jobFor(call);
      return casesToYaml(await loadCases(call.ctx.db, { jobId: job.id }));
    },
  },
  "results.get_testjob_results_csv": {
    help: h("get_testjob_results_csv (job_id)", "Every test case of the job as CSV."),
    async handler(call) {
      const job = await jobFor(call);
      return casesToCsv(await loadCases(call.ctx.db, { jobId: job.id }));
    },
  },
  "results.get_testsuite_results_yaml": { help: h("get_testsuite_results_yaml (job_id, suite_name, limit=None, offset=None)", "The suite's cases as YAML."), handler: (c) => suiteCases(c, "yaml") },
  "results.get_testsuite_results_csv": { help: h("get_testsuite_results_csv (job_id, suite_name, limit=None, offset=None)", "The suite's cases as CSV."), handler: (c) => suiteCases(c, "csv") },
  "results.get_testcase_results_yaml": { help: h("get_testcase_results_yaml (job_id, suite_name, case_name)", "The named case(s) as YAML."), handler: (c) => oneCase(c, "yaml") },
  "results.get_testcase_results_csv": { help: h("get_testcase_results_csv (job_id, suite_name, case_name)", "The named case(s) as CSV."), handler: (c) => oneCase(c, "csv") },
  "results.get_testjob_suites_list_yaml": {
    help: h("get_testjob_suites_list_yaml (job_id)", "The job's suites `{id, job, name}` as YAML."),
    async handler(call) {
      const job = await jobFor(call);
      return suitesToYaml(await loadSuites(call.ctx.db, job.id));
    },
  },
  "results.get_testjob_suites_list_csv": {
    help: h("get_testjob_suites_list_csv (job_id)", "The job's suites as CSV."),
    async handler(call) {
      const job = await jobFor(call);
      return suitesToCsv(await loadSuites(call.ctx.db, job.id));
    },
  },
  "results.get_testsuite_results_count": {
    help: h("get_testsuite_results_count (job_id, suite_name)", "Number of cases in the suite."),
    async handler(call) {
      const job = await jobFor(call);
      return (await loadCases(call.ctx.db, { jobId: job.id, suite: str(call.params, 1, "suite_name") })).length;
    },
  },
  "results.get_testjob_metadata": {
    help: h("get_testjob_metadata (job_id)", "The job's `metadata:` as a list of one-entry dictionaries."),
    async handler(call) {
      const job = await jobFor(call);
      return Object.entries(job.metadata as Record<string, unknown>).map(([k, v]) => ({ [k]: typeof v === "string" ? v : JSON.stringify(v) }));
    },
  },
};
