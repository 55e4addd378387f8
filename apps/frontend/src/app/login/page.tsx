import type { Metadata } from "next";

export const metadata: Metadata = { title: "Log in" };

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? "";

/**
 * The login page: a plain HTML form posting to /api/auth/login (works without JavaScript); a
 * refused login comes back here with `?error=`.
 */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const q = await searchParams;
  const error = one(q["error"]);
  const next = one(q["next"]) || "/";
  return (
    <div className="login-wrap">
      <section className="panel login-panel">
        <h1>Log in</h1>
        <p className="subtitle">Reading public jobs needs no account; submitting jobs and seeing personal or group jobs does.</p>
        {error && (
          <div className="error-box" role="alert" data-testid="login-error">
            {error}
          </div>
        )}
        <form method="post" action="/api/auth/login" className="login-form">
          <input type="hidden" name="next" value={next} />
          <label className="field" htmlFor="username">
            Username
          </label>
          <input id="username" name="username" type="text" autoComplete="username" required defaultValue={one(q["username"])} autoFocus />
          <label className="field" htmlFor="password">
            Password
          </label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
          <button className="btn btn-primary" type="submit">
            Log in
          </button>
        </form>
      </section>
    </div>
  );
}
