"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "~/trpc/react";

/**
 * "Cancel" for an active job, shown to its submitter and to superusers (the server decides again:
 * jobs.cancel). A lab reached by URL is told at once; an outbound lab on its next poll. The state
 * shown changes when the lab pushes Canceling, then Finished/Canceled (`onDone` refreshes the job).
 */
export function CancelJobButton({ lab, id, submitter, onDone }: { lab: string; id: number; submitter: string; onDone: () => void }) {
  const trpc = useTRPC();
  const me = useQuery({ ...trpc.auth.me.queryOptions(), staleTime: 60_000 });
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({ onSuccess: onDone }));
  if (!me.data || (!me.data.isSuperuser && me.data.username !== submitter)) return null;
  return (
    <span className="cancel-job">
      <button
        type="button"
        className="btn"
        data-testid="cancel-job"
        disabled={cancel.isPending || cancel.isSuccess}
        onClick={() => {
          if (window.confirm(`Cancel job ${lab}#${id}?`)) cancel.mutate({ lab, id });
        }}
      >
        {cancel.isPending ? "Canceling…" : "Cancel"}
      </button>
      {cancel.isSuccess && (
        <span className="hint" data-testid="cancel-status">
          {" "}
          {cancel.data.message}
        </span>
      )}
      {cancel.error && (
        <span style={{ color: "var(--bad)" }} role="alert">
          {" "}
          {cancel.error.message}
        </span>
      )}
    </span>
  );
}
