"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useTRPC } from "~/trpc/react";
import { ErrorBox, Loading } from "../status";
import { AdminLabs } from "../labs/admin-labs";

/** A small form: its fields by name, submitted to `onSubmit`; resets on success. */
function AdminForm({
  label,
  children,
  onSubmit,
}: {
  label: string;
  children: React.ReactNode;
  onSubmit: (f: FormData) => Promise<unknown>;
}) {
  const [error, setError] = useState<{ message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(new FormData(form));
      form.reset();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="admin-form" onSubmit={submit} aria-label={label}>
      {children}
      <button className="btn btn-primary" type="submit" disabled={busy}>
        {label}
      </button>
      {error && <ErrorBox title={`${label} refused`} error={error} />}
    </form>
  );
}

const field = (f: FormData, k: string) => String(f.get(k) ?? "").trim();

/**
 * A group and one other thing (a user or a lab) picked from lists, then `run(group, other)`: the
 * shape of adding/removing members and granting/revoking labs.
 * @param second [form field name, label, choices]
 */
function GroupPairForm({
  label,
  groups,
  second,
  run,
}: {
  label: string;
  groups: { id: number; name: string }[];
  second: [name: string, label: string, choices: string[]];
  run: (group: string, other: string) => Promise<unknown>;
}) {
  const [name, title, choices] = second;
  return (
    <AdminForm label={label} onSubmit={(f) => run(field(f, "group"), field(f, name))}>
      <label className="field">
        Group
        <select name="group" required>
          {groups.map((g) => (
            <option key={g.id}>{g.name}</option>
          ))}
        </select>
      </label>
      <label className="field">
        {title}
        <select name={name} required>
          {choices.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </label>
    </AdminForm>
  );
}

/** /admin: users, groups and lab grants, with forms to add and remove them (superusers only). */
export function AdminPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const overview = useQuery(trpc.admin.overview.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.admin.overview.queryKey() });
  const addUser = useMutation(trpc.admin.addUser.mutationOptions({ onSuccess: refresh }));
  const addGroup = useMutation(trpc.admin.addGroup.mutationOptions({ onSuccess: refresh }));
  const addMember = useMutation(trpc.admin.addMember.mutationOptions({ onSuccess: refresh }));
  const grantLab = useMutation(trpc.admin.grantLab.mutationOptions({ onSuccess: refresh }));
  const revokeLab = useMutation(trpc.admin.revokeLab.mutationOptions({ onSuccess: refresh }));
  const removeMember = useMutation(trpc.admin.removeMember.mutationOptions({ onSuccess: refresh }));
  const removeUser = useMutation(trpc.admin.removeUser.mutationOptions({ onSuccess: refresh }));
  const setSuperuser = useMutation(trpc.admin.setSuperuser.mutationOptions({ onSuccess: refresh }));
  const rowError = removeUser.error ?? setSuperuser.error;

  if (overview.isPending) return <Loading what="accounts" />;
  if (overview.error) {
    return (
      <>
        <ErrorBox title="Accounts unavailable" error={overview.error} />
        <p className="hint">
          The admin page is for superusers. <Link href="/login?next=/admin">Log in</Link> as one.
        </p>
      </>
    );
  }
  const { users, groups, labs } = overview.data;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Accounts</h1>
          <p className="subtitle">Users, their groups, and which labs each group may submit to. Also: npm run users -- --help</p>
        </div>
      </div>
      <div className="admin-grid">
        <section className="panel">
          <h3>Users</h3>
          <table className="grid" data-testid="admin-users">
            <thead>
              <tr>
                <th>user</th>
                <th>groups</th>
                <th>superuser</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <td>{u.username}</td>
                  <td>{u.groups.join(", ") || "—"}</td>
                  <td>{u.isSuperuser ? "yes" : ""}</td>
                  <td className="row-actions">
                    <button
                      className="btn btn-small"
                      type="button"
                      onClick={() => setSuperuser.mutate({ username: u.username, superuser: !u.isSuperuser })}
                    >
                      {u.isSuperuser ? "Drop superuser" : "Make superuser"}
                    </button>{" "}
                    <button
                      className="btn btn-small btn-danger"
                      type="button"
                      aria-label={`Delete user ${u.username}`}
                      onClick={() => {
                        if (window.confirm(`Delete user ${u.username}? Their sessions and API tokens stop working at once.`))
                          removeUser.mutate({ username: u.username });
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {rowError && <ErrorBox title="Change refused" error={rowError} />}
          <AdminForm
            label="Add user"
            onSubmit={(f) =>
              addUser.mutateAsync({
                username: field(f, "username"),
                password: field(f, "password") || undefined,
                superuser: f.get("superuser") === "on",
                groups: field(f, "groups")
                  .split(",")
                  .map((g) => g.trim())
                  .filter(Boolean),
              })
            }
          >
            <label className="field">
              User name <input name="username" type="text" required />
            </label>
            <label className="field">
              Password <input name="password" type="password" autoComplete="new-password" />
            </label>
            <label className="field">
              Groups (comma-separated) <input name="groups" type="text" />
            </label>
            <label className="field">
              <span>
                <input name="superuser" type="checkbox" /> superuser
              </span>
            </label>
          </AdminForm>
        </section>
        <section className="panel">
          <h3>Groups</h3>
          <table className="grid" data-testid="admin-groups">
            <thead>
              <tr>
                <th>group</th>
                <th>members</th>
                <th>may submit to</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => (
                <tr key={g.id}>
                  <td>{g.name}</td>
                  <td>{g.members.join(", ") || "—"}</td>
                  <td>{g.labs.join(", ") || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <AdminForm label="Add group" onSubmit={(f) => addGroup.mutateAsync({ name: field(f, "name") })}>
            <label className="field">
              Group name <input name="name" type="text" required />
            </label>
          </AdminForm>
          <GroupPairForm
            label="Add member"
            second={["username", "User", users.map((u) => u.username)]}
            groups={groups}
            run={(g, u) => addMember.mutateAsync({ group: g, username: u })}
          />
          <GroupPairForm
            label="Remove member"
            second={["username", "User", users.map((u) => u.username)]}
            groups={groups}
            run={(g, u) => removeMember.mutateAsync({ group: g, username: u })}
          />
          <GroupPairForm
            label="Grant lab"
            second={["lab", "Lab", labs]}
            groups={groups}
            run={(g, l) => grantLab.mutateAsync({ group: g, lab: l })}
          />
          <GroupPairForm
            label="Revoke lab"
            second={["lab", "Lab", labs]}
            groups={groups}
            run={(g, l) => revokeLab.mutateAsync({ group: g, lab: l })}
          />
        </section>
        <AdminLabs />
      </div>
    </>
  );
}
