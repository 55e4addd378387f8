import { MASKED } from "@magma/protocol";

/** `--password x`, `--password=x`, `--token x`, `--api-key=x`… (the option name kept, the value masked). */
const SECRET_OPTION_RE = /(--?(?:password|passwd|pass|pwd|token|api[-_]?key|secret|community)(?:=|\s+))("[^"]*"|'[^']*'|\S+)/gi;
/** `password=x`, `token:x` key/value settings inside a command (e.g. ipmitool/snmp/URL query strings). */
const SECRET_PAIR_RE = /(\b(?:password|passwd|pwd|token|api[-_]?key|secret)=)([^\s&;'"]+)/gi;
/** `scheme://user:password@host`: the password part. */
const URL_USERINFO_RE = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)([^\s/@]+)(@)/gi;

/**
 * A device-dictionary command (power, connection) as the job log shows it: credentials in it are
 * replaced by `[MASKED]` — option values of `--password`/`--token`/`--api-key`/`--secret`/
 * `--community` (and their `-`/`=` forms), `password=`/`token=`… pairs, and URL passwords
 * (`user:[MASKED]@host`). Single-letter options (`-P x`) are too ambiguous to mask. The command
 * that runs is unchanged. LAVA logs these commands verbatim; a lab's PDU credentials should not
 * reach every submitter's job log.
 */
export function maskCommandCredentials(cmd: string): string {
  return cmd.replace(URL_USERINFO_RE, `$1${MASKED}$3`).replace(SECRET_OPTION_RE, `$1${MASKED}`).replace(SECRET_PAIR_RE, `$1${MASKED}`);
}
