"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "~/trpc/react";
import { ErrorBox, Loading } from "../status";

/** /account: who you are, your groups and labs, and your personal API tokens (each shown once). */
export function AccountPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const tokens = useQuery({ ...trpc.auth.tokens.queryOptions(), enabled: !!me.data });
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.auth.tokens.queryKey() });
  const create = useMutation(trpc.auth.createToken.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.auth.revokeToken.mutationOptions({ onSuccess: refresh }));
  const [description, setDescription] = useState("");

  if (me.isPending) return <Loading what="your account" />;
  if (!me.data) {
    return (
      <p className="hint">
        <Link href="/login?next=/account">Log in</Link> to manage your API tokens.
      </p>
    );
  }
  return (
    <>
      <div className="page-head">
        <div>
          <h1>{me.data.username}</h1>
          <p className="subtitle">
            {me.data.isSuperuser ? "Superuser. " : ""}Groups: {me.data.groups.join(", ") || "none"}. May submit to:{" "}
            {me.data.submitLabs.join(", ") || "no lab"}.
          </p>
        </div>
      </div>
      <section className="panel">
        <h3>API tokens</h3>
        <p className="hint">
          Scripts send <code>Authorization: Token &lt;token&gt;</code> to <code>/api/v1</code>. A token is shown once, when created; only
          its digest is stored.
        </p>
        <form
          className="admin-form"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ description });
          }}
        >
          <label className="field">
            Description <input type="text" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={200} />
          </label>
          <button className="btn btn-primary" type="submit" disabled={create.isPending}>
            Create token
          </button>
        </form>
        {create.data && (
          <p>
            New token (copy it now, it is not shown again):{" "}
            <span className="token-once" data-testid="new-token">
              {create.data.token}
            </span>
          </p>
        )}
        {create.error && <ErrorBox title="Token not created" error={create.error} />}
        {tokens.data && (
          <table className="grid">
            <thead>
              <tr>
                <th>token</th>
                <th>description</th>
                <th>created</th>
                <th>last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id}>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>{t.description}</td>
                  <td>{t.createdAt}</td>
                  <td>{t.lastUsed ?? "never"}</td>
                  <td>
                    <button className="btn btn-mini" onClick={() => revoke.mutate({ id: t.id })}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
