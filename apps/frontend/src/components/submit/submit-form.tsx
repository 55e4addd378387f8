"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useDeferredValue, useMemo, useState } from "react";
import { MAX_INFRASTRUCTURE_RETRIES, parseJobDefinition } from "@magma/protocol";
import { useTRPC } from "~/trpc/react";
import { ErrorBox, Loading } from "../status";
import { exampleDefinition } from "./example-definition";

const newRequestId = () =>
  typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `req-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/**
 * Cross-lab submission form: the definition is validated in the browser with the same parser the
 * labs use; only labs whose overview lists its device_type can be chosen, or "Any lab" (the frontend
 * places the job); a retry count moves a job that fails with an Infrastructure error to another lab. The clientRequestId is
 * generated once per form, so a double-click or a retried request creates one submission.
 * @param imagesUrl where the example job's DUT images are served (see exampleDefinition)
 */
export function SubmitForm({ imagesUrl }: { imagesUrl: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [text, setText] = useState(() => exampleDefinition(imagesUrl));
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [anyLab, setAnyLab] = useState(false);
  const [retries, setRetries] = useState(0);
  const [clientRequestId] = useState(newRequestId);
  const deferred = useDeferredValue(text);
  const parsed = useMemo(() => parseJobDefinition(deferred), [deferred]);
  const deviceType = parsed.ok ? parsed.definition.device_type : null;

  const me = useQuery(trpc.auth.me.queryOptions());
  const mayUse = new Set(me.data?.submitLabs ?? []);
  const labs = useQuery({ ...trpc.labs.overview.queryOptions(), staleTime: 30_000 });
  const offered = (labs.data ?? []).filter((l) => l.reachable && deviceType && l.deviceTypes.includes(deviceType) && mayUse.has(l.name));
  const selected = offered.filter((l) => chosen.has(l.name)).map((l) => l.name);

  const create = useMutation(
    trpc.submissions.create.mutationOptions({
      onSuccess: (r) => router.push(`/submissions/${r.id}`),
    }),
  );
  const busy = create.isPending || create.isSuccess;
  const canSubmit = !!me.data && parsed.ok && (anyLab ? offered.length > 0 : selected.length > 0) && !busy;

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Submit a job to several labs</h1>
          <p className="subtitle">One LAVA job definition, sent to every lab you choose. Each lab runs its own copy.</p>
        </div>
      </div>
      {me.isSuccess && !me.data && (
        <div className="warn-box" data-testid="login-needed">
          Submitting needs an account: <Link href="/login?next=/submit">log in</Link> first. You can still check a definition here.
        </div>
      )}
      <form
        className="submit-grid"
        onSubmit={(e) => {
          e.preventDefault();
          if (canSubmit)
            create.mutate({ clientRequestId, definition: text, labs: anyLab ? "any" : selected, retry: { infrastructure: retries } });
        }}
      >
        <section className="panel">
          <h3>
            <label htmlFor="definition">Job definition (YAML)</label>
          </h3>
          <textarea
            id="definition"
            name="definition"
            data-testid="definition"
            className={parsed.ok ? "" : "invalid"}
            rows={28}
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          {parsed.ok ? (
            <div className="def-ok" data-testid="definition-valid">
              ✓ Valid definition: <strong>{parsed.definition.job_name}</strong> for device type{" "}
              <strong>{parsed.definition.device_type}</strong>
            </div>
          ) : (
            <ul className="def-errors" data-testid="definition-errors">
              {parsed.errors.map((e, i) => (
                <li key={i}>
                  <code>{e.path}</code>: {e.message}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="panel">
          <h3>Labs</h3>
          {!deviceType && <p className="hint">Fix the definition to see which labs can run it.</p>}
          {deviceType && labs.isPending && <Loading what="labs" />}
          {labs.error && (
            <ErrorBox
              title="Could not load the labs"
              error={labs.error}
              hint="The frontend cannot read its lab list: check that it is running with its database, then reload."
            />
          )}
          {deviceType && labs.data && (
            <>
              <p className="hint">
                Labs offering device type <code>{deviceType}</code>:
              </p>
              <label className="lab-choice" data-testid="lab-choice-any">
                <input type="checkbox" name="any" checked={anyLab} disabled={busy} onChange={(e) => setAnyLab(e.target.checked)} />
                <span>
                  <strong>Any lab</strong>
                  <br />
                  <span className="hint">one job on the best lab you may use: an idle device first, then the shortest queue</span>
                </span>
              </label>
              {labs.data.map((l) => {
                const ok = offered.includes(l);
                const reason = !l.reachable
                  ? `unreachable: ${l.error}`
                  : ok
                    ? `offers ${deviceType}`
                    : !l.deviceTypes.includes(deviceType)
                      ? `no ${deviceType} devices (offers: ${l.deviceTypes.join(", ") || "none"})`
                      : me.data
                        ? "none of your groups may submit here"
                        : "log in to submit here";
                return (
                  <label key={l.name} className={ok ? "lab-choice" : "lab-choice disabled"} data-testid={`lab-choice-${l.name}`}>
                    <input
                      type="checkbox"
                      name="labs"
                      value={l.name}
                      disabled={!ok || busy || anyLab}
                      checked={ok && !anyLab && chosen.has(l.name)}
                      onChange={(e) => {
                        const c = new Set(chosen);
                        if (e.target.checked) c.add(l.name);
                        else c.delete(l.name);
                        setChosen(c);
                      }}
                    />
                    <span>
                      <strong>{l.name}</strong>
                      <br />
                      <span className="hint">{reason}</span>
                    </span>
                  </label>
                );
              })}
              {offered.length === 0 && <p className="hint">No reachable lab offers this device type.</p>}
              <label className="hint" style={{ display: "block", marginTop: 8 }}>
                Retry on another lab after an Infrastructure error, up to{" "}
                <input
                  type="number"
                  name="retry-infrastructure"
                  data-testid="retry-infrastructure"
                  min={0}
                  max={MAX_INFRASTRUCTURE_RETRIES}
                  value={retries}
                  disabled={busy}
                  onChange={(e) => setRetries(Math.max(0, Math.min(MAX_INFRASTRUCTURE_RETRIES, Math.trunc(Number(e.target.value) || 0))))}
                  style={{ width: 56 }}
                />{" "}
                times
              </label>
            </>
          )}
          <button
            className="btn btn-primary"
            type="submit"
            disabled={!canSubmit}
            data-testid="submit-button"
            style={{ width: "100%", marginTop: 8 }}
          >
            {busy
              ? "Submitting…"
              : anyLab
                ? "Submit to the best lab"
                : selected.length
                  ? `Submit to ${selected.length} lab${selected.length > 1 ? "s" : ""}`
                  : "Submit"}
          </button>
          {create.error && (
            <ErrorBox
              title="Submission refused"
              error={create.error}
              hint="Fix what the message names in the definition (the path after @ points at the field) and submit again."
            />
          )}
        </section>
      </form>
    </>
  );
}
