"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "~/trpc/react";
import { Badge } from "../badges";
import { ErrorBox } from "../status";
import { formatTime } from "../time";

/**
 * /admin "Labs" panel (superusers): the managed labs with mode and status, forms to add a lab by
 * URL and to enroll an outbound-only lab, and Remove. Secrets the lab's admin needs (callback token
 * and secret, the one-time enrollment token) are shown once, right after the action.
 */
export function AdminLabs() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const labs = useQuery({ ...trpc.admin.labs.queryOptions(), refetchInterval: 10_000 });
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.admin.labs.queryKey() });
  const addLab = useMutation(trpc.admin.addLab.mutationOptions({ onSuccess: refresh }));
  const enrollLab = useMutation(trpc.admin.enrollLab.mutationOptions({ onSuccess: refresh }));
  const removeLab = useMutation(trpc.admin.removeLab.mutationOptions({ onSuccess: refresh }));
  const [shown, setShown] = useState<{ title: string; lines: string[] } | null>(null);
  const origin = typeof window === "undefined" ? "" : window.location.origin;

  const onAdd = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const get = (k: string) => String(f.get(k) ?? "").trim();
    const r = await addLab.mutateAsync({ name: get("name"), kind: get("kind") as "magma" | "lava", url: get("url"), token: get("token") });
    form.reset();
    setShown({
      title: `Lab ${r.lab.name} added — configure the lab with (shown once):`,
      lines:
        r.lab.kind === "magma"
          ? [
              `MAGMA_FEDERATION_CALLBACK_URL=${origin}/api/callbacks/${r.lab.name}`,
              `MAGMA_FEDERATION_TOKEN=${r.callbackToken}`,
              ...(r.callbackSecret ? [`MAGMA_FEDERATION_SIGNING_SECRET=${r.callbackSecret}`] : []),
            ]
          : [`notify callback url: ${origin}/api/callbacks/${r.lab.name}`, `notify callback token: ${r.callbackToken}`],
    });
  };
  const onEnroll = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const name = String(new FormData(form).get("name") ?? "").trim();
    const r = await enrollLab.mutateAsync({ name });
    form.reset();
    setShown({
      title: `Enrollment token for outbound lab ${name} (shown once; valid until used):`,
      lines: [`MAGMA_INSTANCE_NAME=${name}`, `MAGMA_FEDERATION_URL=${origin}`, `MAGMA_ENROLLMENT_TOKEN=${r.token}`],
    });
  };
  const error = addLab.error ?? enrollLab.error ?? removeLab.error ?? labs.error;
  return (
    <section className="panel" data-testid="admin-labs">
      <h3>Labs</h3>
      <table className="grid">
        <thead>
          <tr>
            <th>lab</th>
            <th>kind</th>
            <th>mode</th>
            <th>status</th>
            <th>last contact</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {labs.data?.map((l) => (
            <tr key={l.name} data-lab={l.name}>
              <td>{l.name}</td>
              <td>{l.kind}</td>
              <td>{l.mode === "outbound" ? "outbound" : l.url}</td>
              <td>
                <Badge tone={l.status === "connected" || l.status === "configured" ? "ok" : "bad"}>{l.status}</Badge>
              </td>
              <td>{l.lastContactAt ? formatTime(l.lastContactAt) : "never"}</td>
              <td className="row-actions">
                <button
                  className="btn btn-small btn-danger"
                  type="button"
                  aria-label={`Remove lab ${l.name}`}
                  onClick={() => {
                    if (window.confirm(`Remove lab ${l.name}? Its jobs and results stored here are deleted too.`))
                      removeLab.mutate({ name: l.name });
                  }}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {error && <ErrorBox title="Lab change refused" error={error} />}
      {shown && (
        <div className="panel" data-testid="admin-lab-secret">
          <p>{shown.title}</p>
          <pre className="mono">{shown.lines.join("\n")}</pre>
          <button className="btn btn-small" type="button" onClick={() => setShown(null)}>
            Done
          </button>
        </div>
      )}
      <form className="admin-form" onSubmit={(e) => void onAdd(e).catch(() => undefined)} aria-label="Add lab">
        <label className="field">
          Name <input name="name" type="text" required />
        </label>
        <label className="field">
          Kind
          <select name="kind" defaultValue="magma">
            <option>magma</option>
            <option>lava</option>
          </select>
        </label>
        <label className="field">
          URL <input name="url" type="url" required placeholder="http://lab.example:4001" />
        </label>
        <label className="field">
          API token <input name="token" type="password" required autoComplete="off" />
        </label>
        <button className="btn btn-primary" type="submit" disabled={addLab.isPending}>
          Add lab
        </button>
      </form>
      <form className="admin-form" onSubmit={(e) => void onEnroll(e).catch(() => undefined)} aria-label="Enroll outbound lab">
        <label className="field">
          Name <input name="name" type="text" required />
        </label>
        <button className="btn btn-primary" type="submit" disabled={enrollLab.isPending}>
          Enroll outbound lab
        </button>
      </form>
    </section>
  );
}
