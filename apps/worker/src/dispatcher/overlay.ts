import { gzipSync } from "node:zlib";
import type { TTestDefinitionRef } from "@magma/protocol";
import { stringify } from "yaml";
import { writeCpioNewc, type CpioEntry } from "./cpio.ts";
import { writeTar } from "./tar.ts";
import { JobError } from "./errors.ts";
import { lavaDir } from "./job.ts";
import { RUNNER_END_SENTINEL } from "./actions/test/signals.ts";

/** One test definition placed in the overlay: its global index gives the suite name `<index>_<name>`. */
export interface OverlayDefinition {
  index: number;
  ref: TTestDefinitionRef;
  uuid: string;
}

/** One test action's definitions: run by `lava-test-runner /lava-<id>/<stage>`. */
export interface OverlayStage {
  stage: number;
  definitions: OverlayDefinition[];
}

/** Suite name of a definition, LAVA's `<index>_<name>`. */
export function suiteName(d: OverlayDefinition): string {
  return `${d.index}_${d.ref.name}`;
}

/** Quotes a value for POSIX sh: single quotes, embedded ' as '\''. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const HELPERS: Record<string, string> = {
  "lava-test-case": `#!/bin/sh
# lava-test-case <test-case-id> --shell <command...>
# lava-test-case <test-case-id> --result <pass|fail|skip|unknown> [--measurement <value>] [--units <units>]
usage() {
    echo "Usage: lava-test-case <test-case-id> --shell <command>"
    echo "       lava-test-case <test-case-id> --result <pass|fail|skip|unknown> [--measurement <value>] [--units <units>]"
}
TEST_CASE_ID="$1"
shift
if [ -z "$TEST_CASE_ID" ] || [ -z "$1" ]; then
    usage
    exit 1
fi
if [ "$1" = "--shell" ]; then
    shift
    echo "<LAVA_SIGNAL_STARTTC $TEST_CASE_ID>"
    "$@"
    rc=$?
    echo "<LAVA_SIGNAL_ENDTC $TEST_CASE_ID>"
    if [ "$rc" -eq 0 ]; then RESULT=pass; else RESULT=fail; fi
    echo "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$TEST_CASE_ID RESULT=$RESULT>"
    exit $rc
fi
RESULT=""
MEASUREMENT=""
UNITS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --result) RESULT="$2"; shift 2 ;;
        --measurement) MEASUREMENT="$2"; shift 2 ;;
        --units) UNITS="$2"; shift 2 ;;
        *) usage; exit 1 ;;
    esac
done
if [ -z "$RESULT" ]; then
    usage
    exit 1
fi
LINE="TEST_CASE_ID=$TEST_CASE_ID RESULT=$RESULT"
[ -n "$UNITS" ] && LINE="$LINE UNITS=$UNITS"
[ -n "$MEASUREMENT" ] && LINE="$LINE MEASUREMENT=$MEASUREMENT"
echo "<LAVA_SIGNAL_TESTCASE $LINE>"
exit 0
`,
  "lava-test-set": `#!/bin/sh
# lava-test-set start <name> | lava-test-set stop
case "$1" in
    start)
        if [ -z "$2" ]; then echo "Usage: lava-test-set start <name>"; exit 1; fi
        echo "<LAVA_SIGNAL_TESTSET START $2>" ;;
    stop)
        echo "<LAVA_SIGNAL_TESTSET STOP>" ;;
    *)
        echo "Usage: lava-test-set start <name> | lava-test-set stop"; exit 1 ;;
esac
`,
  "lava-test-raise": `#!/bin/sh
# lava-test-raise <message>: abort the test action with a TestError
if [ -z "$1" ]; then echo "Usage: lava-test-raise <message>"; exit 1; fi
echo "<LAVA_SIGNAL_TESTRAISE $*>"
`,
  "lava-test-event": `#!/bin/sh
# lava-test-event <message>: an event record in the job log
if [ -z "$1" ]; then echo "Usage: lava-test-event <message>"; exit 1; fi
echo "<LAVA_SIGNAL_TESTEVENT $*>"
`,
  "lava-test-reference": `#!/bin/sh
# lava-test-reference <test-case-id> --result <pass|fail|skip|unknown> --reference <url>
TEST_CASE_ID="$1"
shift
RESULT=""
REFERENCE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --result) RESULT="$2"; shift 2 ;;
        --reference) REFERENCE="$2"; shift 2 ;;
        *) shift ;;
    esac
done
if [ -z "$TEST_CASE_ID" ] || [ -z "$RESULT" ] || [ -z "$REFERENCE" ]; then
    echo "Usage: lava-test-reference <test-case-id> --result <result> --reference <url>"
    exit 1
fi
echo "<LAVA_SIGNAL_TESTREFERENCE $TEST_CASE_ID $RESULT $REFERENCE>"
`,
};

function runnerScript(jobId: number): string {
  return `#!/bin/sh
# lava-test-runner <stage dir>: runs each definition listed in <stage dir>/lava-test-runner.conf
STAGE_DIR="\${1:-${lavaDir(jobId)}/0}"
export PATH="${lavaDir(jobId)}/bin:$PATH"
while read -r TESTRUN_ID; do
    [ -n "$TESTRUN_ID" ] || continue
    UUID=$(cat "$STAGE_DIR/tests/$TESTRUN_ID/uuid")
    echo "<LAVA_SIGNAL_STARTRUN $TESTRUN_ID $UUID>"
    (cd "$STAGE_DIR/tests/$TESTRUN_ID" && /bin/sh ./run.sh) < /dev/null
    echo "<LAVA_SIGNAL_ENDRUN $TESTRUN_ID $UUID>"
done < "$STAGE_DIR/lava-test-runner.conf"
echo "${RUNNER_END_SENTINEL}"
`;
}

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function exportLines(params: Record<string, unknown> | undefined, where: string): string[] {
  return Object.entries(params ?? {}).map(([k, v]) => {
    if (!SHELL_NAME.test(k)) throw new JobError(`${where}: parameter name '${k}' is not a valid shell variable name`);
    const value = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    return `export ${k}=${shQuote(value)}`;
  });
}

/** run.sh of one definition: cd into its dir, export params, run each step (a failing step does not stop it). */
export function runScript(jobId: number, stage: number, d: OverlayDefinition): string {
  const dir = `${lavaDir(jobId)}/${stage}/tests/${suiteName(d)}`;
  const steps = d.ref.repository.run?.steps ?? [];
  return [
    "#!/bin/sh",
    `# ${suiteName(d)}: ${d.ref.path}`,
    "###default parameters from test definition###",
    ...exportLines(d.ref.repository.params, `definition ${d.ref.name}`),
    "###test parameters from job submission###",
    ...exportLines({ ...(d.ref.params ?? {}), ...(d.ref.parameters ?? {}) }, `definition ${d.ref.name}`),
    `export TESTRUN_ID=${suiteName(d)}`,
    `export PATH="${lavaDir(jobId)}/bin:$PATH"`,
    `cd ${shQuote(dir)} || exit 1`,
    "set -x",
    ...steps,
    "set +x",
    "",
  ].join("\n");
}

/** What an overlay is built from: the job id, each test action's definitions, extra `environment` variables, the job's `secrets`. */
export interface OverlayOptions {
  jobId: number;
  stages: OverlayStage[];
  environment?: Record<string, string>;
  /** The job's `secrets:` (name → value), written to `/lava-<id>/secrets` (mode 0600), never logged. */
  secrets?: Record<string, string>;
}

/**
 * The overlay's `secrets` file, as LAVA writes it: one `KEY=value` line per secret (the value
 * single-quoted for sh, so test scripts can `. /lava-<id>/secrets` whatever it holds).
 * @throws JobError when a name is not a shell variable name.
 */
export function secretsFile(secrets: Record<string, string>): string {
  return Object.entries(secrets)
    .map(([k, v]) => {
      if (!SHELL_NAME.test(k)) throw new JobError(`secrets: name '${k}' is not a valid shell variable name`);
      return `${k}=${shQuote(v)}\n`;
    })
    .join("");
}

/**
 * The files of the job overlay, parents before children. Layout mirrors LAVA's `/lava-<id>`: `bin/`
 * helpers (lava-test-case, -set, -runner, -raise, -event, -reference; mode 0755), `environment`,
 * `secrets` (when the job has any: `KEY='value'` lines, mode 0600),
 * and per test action `<stage>/lava-test-runner.conf` + `<stage>/tests/<n>_<name>/{run.sh,uuid,testdef.yaml}`.
 * @throws JobError when a parameter name is not a shell variable name.
 */
export function overlayEntries(options: OverlayOptions): CpioEntry[] {
  const { jobId, stages } = options;
  const root = lavaDir(jobId).slice(1);
  const entries: CpioEntry[] = [
    { type: "dir", path: root, mode: 0o755 },
    { type: "dir", path: `${root}/bin`, mode: 0o755 },
    { type: "dir", path: `${root}/results`, mode: 0o755 },
  ];
  for (const [name, body] of Object.entries(HELPERS)) entries.push({ type: "file", path: `${root}/bin/${name}`, mode: 0o755, data: body });
  entries.push({ type: "file", path: `${root}/bin/lava-test-runner`, mode: 0o755, data: runnerScript(jobId) });
  const env = { LAVA_JOB_ID: String(jobId), ...(options.environment ?? {}) };
  entries.push({ type: "file", path: `${root}/environment`, mode: 0o644, data: exportLines(env, "environment").join("\n") + "\n" });
  if (options.secrets && Object.keys(options.secrets).length) entries.push({ type: "file", path: `${root}/secrets`, mode: 0o600, data: secretsFile(options.secrets) });
  for (const s of stages) {
    entries.push({ type: "dir", path: `${root}/${s.stage}`, mode: 0o755 }, { type: "dir", path: `${root}/${s.stage}/tests`, mode: 0o755 });
    entries.push({ type: "file", path: `${root}/${s.stage}/lava-test-runner.conf`, mode: 0o644, data: s.definitions.map((d) => suiteName(d) + "\n").join("") });
    for (const d of s.definitions) {
      const dir = `${root}/${s.stage}/tests/${suiteName(d)}`;
      entries.push(
        { type: "dir", path: dir, mode: 0o755 },
        { type: "file", path: `${dir}/run.sh`, mode: 0o755, data: runScript(jobId, s.stage, d) },
        { type: "file", path: `${dir}/uuid`, mode: 0o644, data: d.uuid + "\n" },
        { type: "file", path: `${dir}/testdef.yaml`, mode: 0o644, data: stringify(d.ref.repository) },
      );
    }
  }
  return entries;
}

/**
 * Builds the job overlay ({@link overlayEntries}) as a gzip'd newc cpio, to append to the DUT's
 * initramfs (the kernel unpacks concatenated archives).
 * @throws JobError when a parameter name is not a shell variable name.
 */
export function buildOverlay(options: OverlayOptions): Buffer {
  return gzipSync(writeCpioNewc(overlayEntries(options)), { level: 9 });
}

/**
 * Builds the job overlay ({@link overlayEntries}) as a gzip'd ustar tarball, what LAVA's
 * `transfer_overlay` downloads and unpacks on the DUT (`tar -C / -xzf`).
 * @throws JobError when a parameter name is not a shell variable name.
 */
export function buildOverlayTarball(options: OverlayOptions): Buffer {
  return gzipSync(writeTar(overlayEntries(options)), { level: 9 });
}
