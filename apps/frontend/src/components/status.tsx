/** Loading / error / empty states shared by every page. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state-msg" role="status">
      <span className="spinner" aria-hidden /> Loading {what}…
    </p>
  );
}

export function ErrorBox({ title, error }: { title: string; error: { message: string } | null | undefined }) {
  return (
    <div className="error-box" role="alert">
      <strong>{title}</strong>
      <div>{error?.message ?? "Unknown error"}</div>
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="empty">{children}</div>;
}
