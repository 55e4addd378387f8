"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "~/trpc/react";
import { Badge, HealthBadge, StateBadge } from "../badges";
import { Empty, ErrorBox, Loading } from "../status";
import { formatTime } from "../time";

/** Labs page: every federated lab's reachability, workers, devices and queue (refreshes every 10 s). */
export function LabsOverview() {
  const trpc = useTRPC();
  const labs = useQuery({ ...trpc.labs.overview.queryOptions(), refetchInterval: 10_000 });
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Labs</h1>
          <p className="subtitle">
            Each lab is an independent LAVA instance; this page asks each one for its status. <Link href="/labs/health">Lab health</Link>
          </p>
        </div>
        {labs.data && <span className="hint">checked {formatTime(labs.data[0]?.checkedAt)} · refreshes every 10 s</span>}
      </div>
      {labs.isPending && <Loading what="labs" />}
      {labs.error && (
        <ErrorBox title="Could not load the labs" error={labs.error} hint="Check that the frontend reaches its database, then reload." />
      )}
      {labs.data && labs.data.length === 0 && (
        <Empty>
          No labs configured. Add one with <code>npm run labs -- add</code> or <code>enroll</code>, on the admin page, or in the YAML seed
          file named by <code>MAGMA_FRONTEND_CONFIG</code>.
        </Empty>
      )}
      <div className="lab-grid">
        {labs.data?.map((lab) => (
          <section key={lab.name} className={lab.reachable ? "lab-card" : "lab-card down"} data-testid="lab-row" data-lab={lab.name}>
            <div className="lab-card-head">
              <h2>{lab.name}</h2>
              {lab.mode === "outbound" ? (
                <Badge tone={lab.reachable ? "ok" : "bad"}>{lab.status}</Badge>
              ) : lab.reachable ? (
                <Badge tone="ok">reachable</Badge>
              ) : (
                <Badge tone="bad">unreachable</Badge>
              )}
            </div>
            <div className="lab-url" data-testid={`lab-mode-${lab.name}`}>
              {lab.kind === "lava" ? "LAVA lab (REST API)" : "Magma lab"} ·{" "}
              {lab.mode === "outbound" ? "outbound-only (connects to this frontend)" : lab.url}
              {lab.mode === "outbound" && <> · last contact {lab.lastContactAt ? formatTime(lab.lastContactAt) : "never"}</>}
              {lab.version && <> · version {lab.version}</>}
              <span data-testid={`lab-callbacks-${lab.name}`}> · callbacks {lab.signedCallbacks ? "signed" : "unsigned (token only)"}</span>
            </div>
            {!lab.reachable && lab.mode === "outbound" && (
              <ErrorBox
                title="Lab is not connected"
                error={{ message: lab.error ?? lab.status }}
                hint="An outbound lab connects to this frontend itself: start it with MAGMA_FEDERATION_URL (and MAGMA_ENROLLMENT_TOKEN from `npm run labs -- enroll` on its first start)."
              />
            )}
            {!lab.reachable && lab.mode === "inbound" && (
              <ErrorBox
                title="Lab did not answer"
                error={{ message: lab.error ?? "unknown error" }}
                hint="Its jobs and results stay visible here; check that the lab instance runs and that its URL in the frontend configuration is right."
              />
            )}
            {lab.reachable && lab.mode === "inbound" && (
              <>
                <div className="stats">
                  <div className="stat">
                    <div className="v" data-testid="workers-online">
                      {lab.workers.online}/{lab.workers.total}
                    </div>
                    <div className="k">workers online</div>
                  </div>
                  <div className="stat">
                    <div className="v">{lab.devices.total}</div>
                    <div className="k">devices</div>
                  </div>
                  <div className="stat">
                    <div className="v">{lab.queue?.submitted ?? 0}</div>
                    <div className="k">queued jobs</div>
                  </div>
                  <div className="stat">
                    <div className="v">{lab.queue?.running ?? 0}</div>
                    <div className="k">running</div>
                  </div>
                </div>
                <dl className="kv">
                  <dt>Device types</dt>
                  <dd className="chips">
                    {lab.deviceTypes.length
                      ? lab.deviceTypes.map((t) => (
                          <span key={t} className="chip">
                            {t}
                          </span>
                        ))
                      : "none"}
                  </dd>
                  <dt>Device states</dt>
                  <dd className="chips">
                    {Object.entries(lab.devices.byState).map(([s, n]) => (
                      <span key={s} className="chip">
                        {s} <b>{n}</b>
                      </span>
                    ))}
                  </dd>
                  <dt>Device health</dt>
                  <dd className="chips">
                    {Object.entries(lab.devices.byHealth).map(([h, n]) => (
                      <span key={h} className="chip">
                        {h} <b>{n}</b>
                      </span>
                    ))}
                  </dd>
                  <dt>Scheduled</dt>
                  <dd>{lab.queue?.scheduled ?? 0}</dd>
                </dl>
                {lab.deviceList.length > 0 && (
                  <div className="device-table">
                    <table className="grid compact">
                      <thead>
                        <tr>
                          <th>Device</th>
                          <th>State</th>
                          <th>Health</th>
                          <th>Job</th>
                        </tr>
                      </thead>
                      <tbody>
                        {lab.deviceList.map((d) => (
                          <tr key={d.hostname}>
                            <td>
                              <span className="mono nowrap">{d.hostname}</span>
                              <div className="hint">{d.device_type}</div>
                            </td>
                            <td>
                              <StateBadge state={d.state} />
                            </td>
                            <td>
                              <HealthBadge health={d.health} />
                            </td>
                            <td>{d.current_job ? <Link href={`/jobs/${lab.name}/${d.current_job}`}>#{d.current_job}</Link> : "—"}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </>
            )}
            <div style={{ marginTop: 10 }}>
              <Link href={`/jobs?lab=${encodeURIComponent(lab.name)}`}>Jobs of {lab.name} →</Link>
            </div>
          </section>
        ))}
      </div>
    </>
  );
}
