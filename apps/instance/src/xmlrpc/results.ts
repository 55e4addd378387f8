import { countSuiteCases, exportCases, exportSuites } from "../exports/export-results.ts";
import { getJobMetadata } from "../jobs/get-job.ts";
import { optInt, requireRpcUser, str, type RpcCall, type RpcMethods } from "./rpc.ts";
import { rpcJob } from "./scheduler-jobs.ts";

/**
 * LAVA's results methods ask for a token even for public jobs ("provided the user is authenticated
 * with an username and token"); lavacli always sends one, so we copy that. Each handler parses its
 * parameters and calls one service of exports/export-results.ts; `rpcJob` turns an unknown or
 * invisible job into LAVA's fault text.
 */
const withJob = <T>(call: RpcCall, fn: (jobId: number) => Promise<T>): Promise<T> => {
  requireRpcUser(call);
  return rpcJob(call.params[0], fn);
};

const suiteCases = (call: RpcCall, format: "yaml" | "csv") =>
  withJob(call, (id) => {
    const suite = str(call.params, 1, "suite_name");
    const limit = optInt(call.params, 2, "limit", null) ?? undefined;
    const offset = optInt(call.params, 3, "offset", null) ?? undefined;
    return exportCases(call.ctx.db, call.user, id, { suite, limit, offset }, format);
  });

const oneCase = (call: RpcCall, format: "yaml" | "csv") =>
  withJob(call, (id) =>
    exportCases(
      call.ctx.db,
      call.user,
      id,
      { suite: str(call.params, 1, "suite_name"), caseName: str(call.params, 2, "case_name") },
      format,
    ),
  );

const h = (sig: string, what: string) =>
  `\`${sig}\`\n\n${what}\nRequires a user and token (fault 401 otherwise); fault 404 for an unknown job, suite or case.`;

/** `results.*`: LAVA's results exports as YAML/CSV strings (columns and value shapes of LAVA's export_testcase). */
export const resultsMethods: RpcMethods = {
  "results.get_testjob_results_yaml": {
    help: h("get_testjob_results_yaml (job_id)", "Every test case of the job as YAML."),
    handler: (call) => withJob(call, (id) => exportCases(call.ctx.db, call.user, id, {}, "yaml")),
  },
  "results.get_testjob_results_csv": {
    help: h("get_testjob_results_csv (job_id)", "Every test case of the job as CSV."),
    handler: (call) => withJob(call, (id) => exportCases(call.ctx.db, call.user, id, {}, "csv")),
  },
  "results.get_testsuite_results_yaml": {
    help: h("get_testsuite_results_yaml (job_id, suite_name, limit=None, offset=None)", "The suite's cases as YAML."),
    handler: (c) => suiteCases(c, "yaml"),
  },
  "results.get_testsuite_results_csv": {
    help: h("get_testsuite_results_csv (job_id, suite_name, limit=None, offset=None)", "The suite's cases as CSV."),
    handler: (c) => suiteCases(c, "csv"),
  },
  "results.get_testcase_results_yaml": {
    help: h("get_testcase_results_yaml (job_id, suite_name, case_name)", "The named case(s) as YAML."),
    handler: (c) => oneCase(c, "yaml"),
  },
  "results.get_testcase_results_csv": {
    help: h("get_testcase_results_csv (job_id, suite_name, case_name)", "The named case(s) as CSV."),
    handler: (c) => oneCase(c, "csv"),
  },
  "results.get_testjob_suites_list_yaml": {
    help: h("get_testjob_suites_list_yaml (job_id)", "The job's suites `{id, job, name}` as YAML."),
    handler: (call) => withJob(call, (id) => exportSuites(call.ctx.db, call.user, id, "yaml")),
  },
  "results.get_testjob_suites_list_csv": {
    help: h("get_testjob_suites_list_csv (job_id)", "The job's suites as CSV."),
    handler: (call) => withJob(call, (id) => exportSuites(call.ctx.db, call.user, id, "csv")),
  },
  "results.get_testsuite_results_count": {
    help: h("get_testsuite_results_count (job_id, suite_name)", "Number of cases in the suite."),
    handler: (call) => withJob(call, (id) => countSuiteCases(call.ctx.db, call.user, id, str(call.params, 1, "suite_name"))),
  },
  "results.get_testjob_metadata": {
    help: h("get_testjob_metadata (job_id)", "The job's `metadata:` as a list of one-entry dictionaries."),
    handler: (call) =>
      withJob(call, async (id) => {
        const { metadata } = await getJobMetadata(call.ctx.db, id, call.user);
        return Object.entries(metadata as Record<string, unknown>).map(([k, v]) => ({
          [k]: typeof v === "string" ? v : JSON.stringify(v),
        }));
      }),
  },
};
