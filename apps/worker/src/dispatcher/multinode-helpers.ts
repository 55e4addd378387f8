import { MULTINODE_PROTOCOL, type TJobDefinition } from "@magma/protocol";
import { JobError } from "../errors.ts";
import { lavaDir } from "./job.ts";

/** Where lava-wait, lava-wait-all and lava-sync store the pairs they received on the DUT (LAVA's path). */
export const MULTINODE_CACHE_FILE = "/tmp/lava_multi_node_cache.txt";

/** What the MultiNode helpers of one sub-job know: its role and the group (job id → role). */
export interface MultinodeOverlay {
  role: string;
  roles: Readonly<Record<string, string>>;
}

const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

const LIB = `# sourced by lava-send, lava-wait, lava-wait-all and lava-sync
# A call is one console line, "<LAVA_MULTI_NODE> <LAVA_<API> args>"; the worker relays it to the
# instance and types the answer, "<LAVA_<API>_COMPLETE [job:key=value ...]>" (or " nack"), on the
# console, which is this shell's stdin.
_mn_signal() {
    echo "<LAVA_MULTI_NODE> <LAVA_$*>"
}
_mn_wait_reply() {
    while read -r _mn_line; do
        case "$_mn_line" in
            *"<LAVA_$1_COMPLETE"*) ;;
            *) continue ;;
        esac
        _mn_body=\${_mn_line#*<LAVA_$1_COMPLETE}
        _mn_body=\${_mn_body%%>*}
        [ "$1" = SYNC ] || { mkdir -p "$(dirname "$LAVA_MULTI_NODE_CACHE")"; : > "$LAVA_MULTI_NODE_CACHE"; }
        for _mn_word in $_mn_body; do
            case "$_mn_word" in
                nack) echo "Error:no-response, Exit from LAVA_$1!"; exit 1 ;;
                *=*) echo "$_mn_word" >> "$LAVA_MULTI_NODE_CACHE" ;;
            esac
        done
        return 0
    done
    exit 1
}
`;

/**
 * LAVA's MultiNode test-shell helpers for one sub-job (lava_test_shell/multi_node, same console
 * protocol, written for busybox sh): `lava-send ID [KEY=VALUE…]`, `lava-wait ID`,
 * `lava-wait-all ID [ROLE]`, `lava-sync ID` print `<LAVA_MULTI_NODE> <LAVA_SEND|WAIT|WAIT_ALL|SYNC …>`
 * and (except lava-send) read the worker's `<LAVA_…_COMPLETE …>` answer from stdin, writing the
 * received `job:key=value` pairs to {@link MULTINODE_CACHE_FILE}; a `nack` answer exits 1.
 * `lava-role` prints the sub-job's role (`list`: every sub-job's role), `lava-group` prints
 * `job id<TAB>role` lines (with a ROLE: the ids of that role; exit 1 when none), `lava-self` the
 * sub-job's id (LAVA's client name).
 * @returns helper name → script text (mode 0755 in `/lava-<id>/bin`)
 */
export function multinodeHelpers(jobId: number, mn: MultinodeOverlay): Record<string, string> {
  const bin = `${lavaDir(jobId)}/bin`;
  const head = `#!/bin/sh\nLAVA_TEST_BIN=${quote(bin)}\nLAVA_MULTI_NODE_CACHE=${quote(MULTINODE_CACHE_FILE)}\n`;
  const group = Object.entries(mn.roles)
    .map(([id, role]) => `${id}\t${role}\n`)
    .join("");
  return {
    "lava-multi-node.lib": LIB,
    "lava-send": `${head}# lava-send MESSAGE_ID [KEY=VALUE ...]: sends the message (and its pairs) to the whole group
. "$LAVA_TEST_BIN/lava-multi-node.lib"
case "$1" in ""|*=*) echo "Usage: lava-send MESSAGE_ID [KEY=VALUE...]"; exit 1 ;; esac
_mn_id=$1; shift
_mn_pairs=""
for _mn_kv in "$@"; do case "$_mn_kv" in ?*=?*) _mn_pairs="$_mn_pairs $_mn_kv" ;; esac; done
_mn_signal "SEND $_mn_id$_mn_pairs"
`,
    "lava-wait": `${head}# lava-wait MESSAGE_ID: waits until a sub-job of the group sent MESSAGE_ID; its pairs go to the cache file
. "$LAVA_TEST_BIN/lava-multi-node.lib"
[ -n "$1" ] || { echo "Usage: lava-wait MESSAGE_ID"; exit 1; }
_mn_signal "WAIT $1"
_mn_wait_reply WAIT
`,
    "lava-wait-all": `${head}# lava-wait-all MESSAGE_ID [ROLE]: waits until every sub-job (of ROLE) sent MESSAGE_ID
. "$LAVA_TEST_BIN/lava-multi-node.lib"
[ -n "$1" ] || { echo "Usage: lava-wait-all MESSAGE_ID [ROLE]"; exit 1; }
_mn_signal "WAIT_ALL $1\${2:+ $2}"
_mn_wait_reply WAIT_ALL
`,
    "lava-sync": `${head}# lava-sync MESSAGE_ID: waits until every sub-job of the group called lava-sync MESSAGE_ID
. "$LAVA_TEST_BIN/lava-multi-node.lib"
[ -n "$1" ] || { echo "Usage: lava-sync MESSAGE_ID"; exit 1; }
_mn_signal "SYNC $1"
_mn_wait_reply SYNC
`,
    "lava-role": `#!/bin/sh
# lava-role: this sub-job's role; lava-role list: the role of every sub-job of the group
TARGET_ROLE=${quote(mn.role)}
if [ "$1" != "list" ]; then printf "%s" "$TARGET_ROLE"; exit 0; fi
lava-group | cut -f2
`,
    "lava-group": `#!/bin/sh
# lava-group: "<job id><TAB><role>" for each sub-job; lava-group ROLE: the job ids of ROLE (exit 1 when none)
LAVA_GROUP=${quote(group)}
if [ -z "$1" ]; then printf "%s" "$LAVA_GROUP"; exit 0; fi
MATCH=$(printf "%s" "$LAVA_GROUP" | awk -F '\\t' -v r="$1" '$2 == r { print $1 }')
[ -n "$MATCH" ] || exit 1
printf "%s\\n" "$MATCH"
`,
    "lava-self": `#!/bin/sh
# lava-self: this sub-job's name in the group (its job id, LAVA's client name)
LAVA_HOSTNAME=${quote(String(jobId))}
echo "$LAVA_HOSTNAME"
`,
  };
}

/**
 * The MultiNode helpers' data of a sub-job (LAVA's `lava-multinode-overlay`): its role and the
 * group's `roles` (job id → role, filled in by the instance when it scheduled the group).
 * @returns undefined for a single-node job
 * @throws JobError when the sub-job's definition has no role
 */
export function multinodeOverlay(definition: TJobDefinition): MultinodeOverlay | undefined {
  const p = definition.protocols?.[MULTINODE_PROTOCOL];
  if (!p) return undefined;
  if (!p.role) throw new JobError("multinode job without a specified role");
  const roles: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.roles)) if (typeof v === "string") roles[k] = v;
  return { role: p.role, roles };
}
