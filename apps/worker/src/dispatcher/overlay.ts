import { gzipSync } from "node:zlib";
import { multinodeHelpers, type MultinodeOverlay } from "./multinode-helpers.ts";
import type { TInlineTestDefinition, TTestDefinitionRef } from "@magma/protocol";
import { stringify } from "yaml";
import { writeCpioNewc, type CpioEntry } from "./cpio.ts";
import { writeTar } from "./tar.ts";
import { JobError } from "../errors.ts";
import { lavaDir } from "./job.ts";
import { RUNNER_END_SENTINEL } from "./actions/test/signals.ts";

/** One test definition placed in the overlay: its global index gives the suite name `<index>_<name>`. */
export interface OverlayDefinition {
  index: number;
  ref: TTestDefinitionRef;
  uuid: string;
  /** A `from: git` definition once fetched: its test definition, the clone's files, the commit. */
  resolved?: TResolvedTestDefinition;
}

/** A fetched (git or url) test definition: the parsed YAML at `path`, the repository's files and (git) commit. */
export interface TResolvedTestDefinition {
  testdef: TInlineTestDefinition;
  /** files of the clone (with `.git` unless `history: false`) or of the unpacked tarball, paths relative to its root, placed in the test's directory */
  files: { path: string; mode: number; data: Buffer }[];
  /** git: `git rev-parse HEAD` of the clone (LAVA's `commit_id`); url: none */
  commitId?: string;
}

/**
 * The Lava-Test Test Definition of `d`: inline, or the one fetched from git.
 * @throws JobError when a git definition was not fetched before the overlay is built
 */
export function testDefinitionOf(d: OverlayDefinition): TInlineTestDefinition {
  if (d.ref.from === "inline") return d.ref.repository;
  if (!d.resolved) throw new JobError(`test definition ${d.ref.name}: ${d.ref.repository} was not fetched`);
  return d.resolved.testdef;
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

/**
 * The `lava-test-*` helpers on the DUT (POSIX sh; busybox ash is enough), behaving as LAVA's for the
 * same arguments (docs/test-shell.md lists each with LAVA's behaviour): signals are echoed on the
 * console, or written to /dev/kmsg when `KMSG` is set, after `CHARACTER_DELAY` seconds when set.
 */
const HELPERS: Record<string, string> = {
  "lava-common-functions": `# sourced by the other helpers
signal() {
    if [ -n "\${CHARACTER_DELAY}" ]; then sleep "\${CHARACTER_DELAY}"; fi
    if [ -n "\${KMSG}" ]; then echo "<0>$1" > /dev/kmsg; else echo "$1"; fi
}
`,
  "lava-test-case": `#!/bin/sh
# lava-test-case NAME --shell CMD        one argument: evaluated by the shell (pipes, redirects, &&)
# lava-test-case NAME --shell CMD ARG…   several arguments: run as this exact argv
# lava-test-case NAME --result pass|fail|skip|unknown [--measurement VALUE] [--units UNITS] [--output FILE]
# Exits 0 once the result is recorded (a failing --shell command is a fail result, not a failing step).
. "$(dirname "$0")/lava-common-functions"
usage() {
    echo "Usage: lava-test-case NAME --shell CMD [ARG...]"
    echo "   or: lava-test-case NAME --result RESULT [--units UNITS] [--measurement MEASUREMENT] [--output FILE]"
}
export TEST_CASE_ID="$1"
[ $# -gt 0 ] && shift
if [ -z "$TEST_CASE_ID" ]; then usage; exit 1; fi
OUTPUT_FILE=""
if [ "$1" = "--shell" ]; then
    shift
    signal "<LAVA_SIGNAL_STARTTC $TEST_CASE_ID>"
    if [ $# -eq 1 ]; then eval "$1"; else "$@"; fi
    rc=$?
    signal "<LAVA_SIGNAL_ENDTC $TEST_CASE_ID>"
    if [ $rc -eq 0 ]; then RESULT=pass; else RESULT=fail; fi
else
    while [ $# -gt 0 ]; do
        case "$1" in
            --result) RESULT="$2"; shift; [ $# -gt 0 ] && shift ;;
            --units) UNITS="$2"; shift; [ $# -gt 0 ] && shift ;;
            --measurement) MEASUREMENT="$2"; shift; [ $# -gt 0 ] && shift ;;
            --output) OUTPUT_FILE="$2"; shift; [ $# -gt 0 ] && shift ;;
            *) usage; exit 1 ;;
        esac
    done
fi
if [ -z "\${RESULT+x}" ]; then echo "--result must be specified"; exit 1; fi
result_dir="\${LAVA_RESULT_DIR:-/tmp/lava-results}/results/$TEST_CASE_ID"
mkdir -p "$result_dir"
echo "$RESULT" > "$result_dir/result"
TCDATA=" RESULT=$RESULT"
if [ -n "\${UNITS+x}" ]; then echo "$UNITS" > "$result_dir/units"; TCDATA="$TCDATA UNITS=$UNITS"; fi
if [ -n "\${MEASUREMENT+x}" ]; then echo "$MEASUREMENT" > "$result_dir/measurement"; TCDATA="$TCDATA MEASUREMENT=$MEASUREMENT"; fi
if [ -n "$OUTPUT_FILE" ]; then
    signal "<LAVA_SIGNAL_STARTTC $TEST_CASE_ID>"
    cat "$OUTPUT_FILE"
    signal "<LAVA_SIGNAL_ENDTC $TEST_CASE_ID>"
fi
signal "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$TEST_CASE_ID$TCDATA>"
exit 0
`,
  "lava-test-case-attach": `#!/bin/sh
# LAVA removed attachments from the test shell; Magma refuses them the same way, loudly.
echo "lava-test-case-attach is not supported: LAVA 2023.01 and Magma keep no test case attachments;" \\
     "print the file in the log (lava-test-case NAME --result RESULT --output FILE) or publish it from the DUT" >&2
exit 1
`,
  "lava-test-set": `#!/bin/sh
# lava-test-set start NAME | lava-test-set stop
. "$(dirname "$0")/lava-common-functions"
usage() { echo "Usage: lava-test-set start NAME"; echo "       lava-test-set stop"; }
case "$1" in
    start)
        if [ -z "$2" ]; then usage; exit 1; fi
        signal "<LAVA_SIGNAL_TESTSET START $2>" ;;
    stop)
        signal "<LAVA_SIGNAL_TESTSET STOP>" ;;
    *)
        usage; exit 1 ;;
esac
exit 0
`,
  "lava-test-raise": `#!/bin/sh
# lava-test-raise MESSAGE: ends the test action with a TestError naming MESSAGE; always exits 1
. "$(dirname "$0")/lava-common-functions"
if [ -z "$1" ]; then echo "Usage: lava-test-raise MESSAGE"; exit 1; fi
signal "<LAVA_SIGNAL_TESTRAISE $*>"
exit 1
`,
  "lava-test-event": `#!/bin/sh
# lava-test-event MESSAGE: one event record in the job log (MESSAGE is one argument: quote it)
. "$(dirname "$0")/lava-common-functions"
if [ -z "$1" ] || [ $# -gt 1 ]; then echo "Usage: lava-test-event MESSAGE"; exit 1; fi
signal "<LAVA_SIGNAL_TESTEVENT $1>"
exit 0
`,
  "lava-test-feedback": `#!/bin/sh
# lava-test-feedback --namespace NAME: asks the dispatcher to read the console of namespace NAME
. "$(dirname "$0")/lava-common-functions"
NAMESPACE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --namespace) NAMESPACE="$2"; shift; [ $# -gt 0 ] && shift ;;
        *) echo "Usage: lava-test-feedback --namespace NAME"; exit 1 ;;
    esac
done
if [ -z "$NAMESPACE" ]; then echo "--namespace must be specified"; exit 1; fi
signal "<LAVA_SIGNAL_TESTFEEDBACK $NAMESPACE>"
exit 0
`,
  "lava-test-reference": `#!/bin/sh
# lava-test-reference NAME --result pass|fail|skip|unknown --reference URL
. "$(dirname "$0")/lava-common-functions"
usage() { echo "Usage: lava-test-reference NAME --result pass|fail|skip|unknown --reference URL"; }
TEST_CASE_ID="$1"
[ $# -gt 0 ] && shift
if [ -z "$TEST_CASE_ID" ]; then usage; exit 1; fi
while [ $# -gt 0 ]; do
    case "$1" in
        --result) RESULT="$2"; shift; [ $# -gt 0 ] && shift ;;
        --reference) REFERENCE="$2"; shift; [ $# -gt 0 ] && shift ;;
        *) usage; exit 1 ;;
    esac
done
if [ -z "\${RESULT+x}" ]; then echo "--result must be specified"; exit 1; fi
if [ -z "\${REFERENCE+x}" ]; then echo "--reference must be specified"; exit 1; fi
signal "<LAVA_SIGNAL_TESTREFERENCE $TEST_CASE_ID $RESULT $REFERENCE>"
exit 0
`,
  "lava-background-process-start": `#!/bin/sh
# lava-background-process-start NAME --cmd CMD…: runs CMD (its words joined and read as shell text, as
# LAVA does) in the background, restarted a second after it ends, until lava-background-process-stop NAME
usage() { echo "Usage: lava-background-process-start NAME --cmd PROCESS"; }
NAME="$1"
[ $# -gt 0 ] && shift
if [ -z "$NAME" ] || [ "$1" != "--cmd" ] || [ $# -lt 2 ]; then usage; exit 1; fi
shift
result_dir="\${LAVA_RESULT_DIR:-/tmp/lava-results}/results/$NAME"
mkdir -p "$result_dir"
cat > "$result_dir/bg_run.sh" <<BGEOF
child=
trap 'kill \\$child 2>/dev/null; exit 0' HUP INT TERM
while true; do ( $* ) & child=\\$!; wait \\$child; sleep 1; done
BGEOF
/bin/sh "$result_dir/bg_run.sh" > /dev/null 2>&1 &
echo $! > "$result_dir/pid"
exit 0
`,
  "lava-background-process-stop": `#!/bin/sh
# lava-background-process-stop NAME: stops what lava-background-process-start NAME started
if [ -z "$1" ]; then echo "Usage: lava-background-process-stop NAME"; exit 1; fi
result_dir="\${LAVA_RESULT_DIR:-/tmp/lava-results}/results/$1"
if [ ! -f "$result_dir/pid" ]; then echo "no background process named $1"; exit 1; fi
PID=$(cat "$result_dir/pid")
kill "$PID" > /dev/null 2>&1
exit 0
`,
};

/**
 * lava-test-runner: runs each definition's install.sh and run.sh. run.sh reads /dev/null, except in
 * a MultiNode sub-job, where it keeps the console as stdin as LAVA's runner does: lava-wait, -wait-all
 * and -sync read the worker's answer there.
 */
function runnerScript(jobId: number, consoleStdin = false): string {
  // the loop below reads the conf file on stdin: keep the console as fd 3 for run.sh
  const runStdin = consoleStdin ? " <&3" : " < /dev/null";
  return `#!/bin/sh
# lava-test-runner <stage dir>: runs each definition listed in <stage dir>/lava-test-runner.conf
STAGE_DIR="\${1:-${lavaDir(jobId)}/0}"
export PATH="${lavaDir(jobId)}/bin:$PATH"
${consoleStdin ? "exec 3<&0\n" : ""}while read -r TESTRUN_ID; do
    [ -n "$TESTRUN_ID" ] || continue
    UUID=$(cat "$STAGE_DIR/tests/$TESTRUN_ID/uuid")
    export LAVA_RESULT_DIR="$STAGE_DIR/results/$TESTRUN_ID"
    mkdir -p "$LAVA_RESULT_DIR"
    if [ -f "$STAGE_DIR/tests/$TESTRUN_ID/install.sh" ]; then
        (cd "$STAGE_DIR/tests/$TESTRUN_ID" && /bin/sh ./install.sh) < /dev/null
        R=$?
        echo $R > "$LAVA_RESULT_DIR/install_return_code"
        if [ $R -ne 0 ]; then
            echo "<LAVA_TEST_RUNNER INSTALL_FAIL>"
            continue
        fi
    fi
    echo "<LAVA_SIGNAL_STARTRUN $TESTRUN_ID $UUID>"
    (cd "$STAGE_DIR/tests/$TESTRUN_ID" && /bin/sh ./run.sh)${runStdin}
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
  const testdef = testDefinitionOf(d);
  const steps = testdef.run?.steps ?? [];
  return [
    "#!/bin/sh",
    `# ${suiteName(d)}: ${d.ref.path}`,
    "###default parameters from test definition###",
    ...exportLines(testdef.params, `definition ${d.ref.name}`),
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

/**
 * The job definition's `environment:` as the overlay's `environment` file exports it (values as
 * strings; the names were checked to be shell variable names at submission and are checked again
 * when the file is written).
 */
export function jobEnvironment(environment: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment ?? {}).map(([k, v]) => [
      k,
      v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v),
    ]),
  );
}

/**
 * install.sh of a definition with an `install:` section (LAVA's TestInstallAction), or undefined:
 * its parameters, the `deps` (skipped with a note — the busybox DUTs have no package manager Magma
 * drives, as LAVA skips deps for an unknown distro), then `cd` into the test's directory and the
 * `steps`. lava-test-runner runs it before run.sh; a non-zero exit skips the definition.
 */
export function installScript(jobId: number, stage: number, d: OverlayDefinition): string | undefined {
  const install = testDefinitionOf(d).install;
  if (!install) return undefined;
  const dir = `${lavaDir(jobId)}/${stage}/tests/${suiteName(d)}`;
  const deps = install.deps ?? [];
  return [
    "#!/bin/sh",
    `# ${suiteName(d)}: install`,
    ...exportLines(testDefinitionOf(d).params, `definition ${d.ref.name}`),
    ...exportLines({ ...(d.ref.params ?? {}), ...(d.ref.parameters ?? {}) }, `definition ${d.ref.name}`),
    `export PATH="${lavaDir(jobId)}/bin:$PATH"`,
    ...(deps.length ? [`echo ${shQuote(`install deps skipped (this DUT has no package manager Magma drives): ${deps.join(" ")}`)}`] : []),
    `cd ${shQuote(dir)} || exit 1`,
    ...(install.steps ?? []),
    "",
  ].join("\n");
}

/** The device's names for the test shell, as LAVA exports them (`LAVA_DEVICE_HOSTNAME`, `LAVA_DEVICE_TYPE`). */
export function deviceEnvironment(device: { hostname: string; device_type: string }): Record<string, string> {
  return { LAVA_DEVICE_HOSTNAME: device.hostname, LAVA_DEVICE_TYPE: device.device_type };
}

/** What an overlay is built from: the job id, each test action's definitions, extra `environment` variables, the job's `secrets`. */
export interface OverlayOptions {
  jobId: number;
  stages: OverlayStage[];
  environment?: Record<string, string>;
  /** The job's `secrets:` (name → value), written to `/lava-<id>/secrets` (mode 0600), never logged. */
  secrets?: Record<string, string>;
  /** MultiNode sub-jobs: the role and group the lava-send/-wait/-role/-group/-self helpers use. */
  multinode?: MultinodeOverlay;
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
 * helpers (lava-test-case, -case-attach, -set, -runner, -raise, -event, -feedback, -reference,
 * lava-background-process-start/-stop, lava-common-functions, and in a MultiNode sub-job
 * lava-send/-wait/-wait-all/-sync/-role/-group/-self; mode 0755), `environment`,
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
  if (options.multinode)
    for (const [name, body] of Object.entries(multinodeHelpers(jobId, options.multinode)))
      entries.push({ type: "file", path: `${root}/bin/${name}`, mode: 0o755, data: body });
  entries.push({ type: "file", path: `${root}/bin/lava-test-runner`, mode: 0o755, data: runnerScript(jobId, !!options.multinode) });
  const env = { LAVA_JOB_ID: String(jobId), ...(options.environment ?? {}) };
  entries.push({ type: "file", path: `${root}/environment`, mode: 0o644, data: exportLines(env, "environment").join("\n") + "\n" });
  if (options.secrets && Object.keys(options.secrets).length)
    entries.push({ type: "file", path: `${root}/secrets`, mode: 0o600, data: secretsFile(options.secrets) });
  for (const s of stages) {
    entries.push({ type: "dir", path: `${root}/${s.stage}`, mode: 0o755 }, { type: "dir", path: `${root}/${s.stage}/tests`, mode: 0o755 });
    entries.push({
      type: "file",
      path: `${root}/${s.stage}/lava-test-runner.conf`,
      mode: 0o644,
      data: s.definitions.map((d) => suiteName(d) + "\n").join(""),
    });
    for (const d of s.definitions) {
      const dir = `${root}/${s.stage}/tests/${suiteName(d)}`;
      entries.push({ type: "dir", path: dir, mode: 0o755 });
      // a git (url) definition's directory is its clone (unpacked tarball), as in LAVA: scripts the steps call are there
      const made = new Set<string>([dir]);
      for (const f of d.resolved?.files ?? []) {
        const parts = f.path.split("/");
        for (let k = 1; k < parts.length; k++) {
          const sub = `${dir}/${parts.slice(0, k).join("/")}`;
          if (!made.has(sub)) {
            made.add(sub);
            entries.push({ type: "dir", path: sub, mode: 0o755 });
          }
        }
        entries.push({ type: "file", path: `${dir}/${f.path}`, mode: f.mode, data: f.data });
      }
      entries.push(
        { type: "file", path: `${dir}/run.sh`, mode: 0o755, data: runScript(jobId, s.stage, d) },
        ...(installScript(jobId, s.stage, d) !== undefined
          ? [{ type: "file" as const, path: `${dir}/install.sh`, mode: 0o755, data: installScript(jobId, s.stage, d)! }]
          : []),
        { type: "file", path: `${dir}/uuid`, mode: 0o644, data: d.uuid + "\n" },
        { type: "file", path: `${dir}/testdef.yaml`, mode: 0o644, data: stringify(testDefinitionOf(d)) },
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
