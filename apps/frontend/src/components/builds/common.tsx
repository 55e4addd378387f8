"use client";
import Link from "next/link";
import { Badge } from "../badges";
import { useUrlParams } from "../url-params";

/** Header cell of a lab × device type column; `column` is `lab\u0000deviceType`. */
export function LabDeviceTypeHeader({ column }: { column: string }) {
  const [lab, deviceType] = column.split("\u0000");
  return (
    <th>
      {lab}
      <br />
      <span style={{ textTransform: "none", fontWeight: 400 }}>{deviceType}</span>
    </th>
  );
}

/** First 12 characters of a commit (full commit in the title). */
export const ShortCommit = ({ commit }: { commit: string }) => (
  <span className="mono" title={commit}>
    {commit.slice(0, 12)}
  </span>
);

const SUSPECT_TONE: Record<string, string> = { code: "bad", lab: "warn", unknown: "neutral" };
const SUSPECT_HINT: Record<string, string> = {
  code: "every lab that ran the test on both builds sees it: likely the code",
  lab: "only some labs see it, the others still pass: likely the lab",
  unknown: "only one lab ran the test on both builds",
};
/** Suspect of a regression/fix: code (red), lab (amber), unknown (grey). */
export const SuspectBadge = ({ suspect }: { suspect: string }) => (
  <span title={SUSPECT_HINT[suspect]}>
    <Badge tone={SUSPECT_TONE[suspect] ?? "neutral"} testId="suspect-badge">
      {suspect}
    </Badge>
  </span>
);

const STATUS_TONE: Record<string, string> = { pass: "ok", fail: "bad", skip: "muted", flaky: "warn" };
/** A test's status on a build and lab: pass | fail | skip | flaky. */
export const StatusBadge = ({ status }: { status: string | null }) =>
  status ? <Badge tone={STATUS_TONE[status] ?? "neutral"}>{status}</Badge> : <span className="hint">not run</span>;

export const KindBadge = ({ kind }: { kind: string }) => <Badge tone={kind === "fix" ? "ok" : "bad"}>{kind}</Badge>;

/** Query string from key/values (empty values dropped). */
export function qs(params: Record<string, string | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) p.set(k, v);
  return p.toString();
}

export const buildHref = (tree: string, branch: string, commit: string) => `/builds/build?${qs({ tree, branch, commit })}`;
export const testHref = (tree: string, branch: string, test: string, deviceType?: string) =>
  `/builds/test?${qs({ tree, branch, test, device_type: deviceType })}`;
export const branchHref = (tree: string, branch: string) => `/builds?${qs({ tree, branch })}`;

/**
 * The pager of a list paged by the `cursor` URL parameter: "Newest" (drops `cursor`) while on an
 * older page, "Older →" (sets `cursor` to `nextCursor`) while the page has a next one; `hint` on the left.
 */
export function CursorPager({ nextCursor, hint }: { nextCursor: string | null | undefined; hint?: React.ReactNode }) {
  const { get, set } = useUrlParams();
  return (
    <div className="pager">
      {hint ? <span className="hint">{hint}</span> : <span />}
      <span>
        {get("cursor") && (
          <button type="button" className="btn" onClick={() => set({ cursor: undefined })}>
            Newest
          </button>
        )}{" "}
        {nextCursor && (
          <button type="button" className="btn" onClick={() => set({ cursor: nextCursor })}>
            Older →
          </button>
        )}
      </span>
    </div>
  );
}

/** Breadcrumbs Builds › tree/branch › … */
export function Crumbs({ tree, branch, children }: { tree?: string; branch?: string; children?: React.ReactNode }) {
  return (
    <div className="crumbs">
      <Link href="/builds">Builds</Link>
      {tree && branch && (
        <>
          {" › "}
          <Link href={branchHref(tree, branch)}>
            {tree}/{branch}
          </Link>
        </>
      )}
      {children && <> › {children}</>}
    </div>
  );
}

/** Job links as `lab#id` chips. */
export function JobLinks({ jobs }: { jobs: { lab: string; id: number; url: string }[] }) {
  return (
    <span className="chips">
      {jobs.map((j) => (
        <Link key={`${j.lab}/${j.id}`} href={j.url} className="chip mono">
          {j.lab}#{j.id}
        </Link>
      ))}
    </span>
  );
}
