/** Colour classes for LAVA states, healths and results (text always shown: colour is a hint only). */
const HEALTH: Record<string, string> = {
  Complete: "ok",
  Incomplete: "bad",
  Canceled: "muted",
  Unknown: "neutral",
  Good: "ok",
  Bad: "bad",
  Looping: "warn",
  Maintenance: "warn",
  Retired: "muted",
};
const STATE: Record<string, string> = {
  Submitted: "neutral",
  Scheduling: "info",
  Scheduled: "info",
  Running: "run",
  Canceling: "warn",
  Finished: "muted",
  Idle: "neutral",
  Reserved: "info",
};
const RESULT: Record<string, string> = { pass: "ok", fail: "bad", skip: "warn", unknown: "neutral" };
const TARGET: Record<string, string> = { queued: "info", submitted: "ok", failed: "bad" };

export function Badge({ tone, children, testId }: { tone: string; children: React.ReactNode; testId?: string }) {
  return (
    <span className={`badge badge-${tone}`} data-testid={testId}>
      {children}
    </span>
  );
}

export const stateTone = (state: string) => STATE[state] ?? "neutral";
export const healthTone = (health: string) => HEALTH[health] ?? "neutral";
export const StateBadge = ({ state }: { state: string }) => <Badge tone={STATE[state] ?? "neutral"}>{state}</Badge>;
export const HealthBadge = ({ health, testId }: { health: string; testId?: string }) => (
  <Badge tone={HEALTH[health] ?? "neutral"} testId={testId}>
    {health}
  </Badge>
);
export const ResultBadge = ({ result }: { result: string }) => <Badge tone={RESULT[result] ?? "neutral"}>{result}</Badge>;
export const TargetBadge = ({ status }: { status: string }) => <Badge tone={TARGET[status] ?? "neutral"}>{status}</Badge>;
