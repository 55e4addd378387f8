/** Loading / error / empty states shared by every page. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state-msg" role="status">
      <span className="spinner" aria-hidden /> Loading {what}…
    </p>
  );
}

/**
 * An error with what to do next: `title` says what failed, `error.message` why (as the server said it),
 * `hint` the next step for the person reading it (retry, check a lab, fix a field).
 */
export function ErrorBox({ title, error, hint }: { title: string; error: { message: string } | null | undefined; hint?: React.ReactNode }) {
  return (
    <div className="error-box" role="alert">
      <strong>{title}</strong>
      <div>{error?.message ?? "Unknown error"}</div>
      {hint && <div className="error-hint">{hint}</div>}
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="empty">{children}</div>;
}
