"use client";
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { TLogLine } from "@magma/protocol";
import { useTRPC } from "~/trpc/react";
import { ErrorBox, Loading } from "../status";
import { logText } from "./log-text";

const LEVELS = ["target", "input", "info", "debug", "warning", "error", "exception", "results", "feedback", "event"] as const;

/**
 * The job log. While the job is not Finished it follows the lab's SSE stream through
 * /api/labs/<lab>/jobs/<id>/logs/stream (lines de-duplicated by line number, so a reconnect is
 * harmless), falling back to polling when the stream is unavailable; a finished job's log is
 * fetched once. Messages are shown as text only (see logText).
 */
export function JobLog({ lab, id, live, onEnd }: { lab: string; id: number; live: boolean; onEnd: () => void }) {
  const trpc = useTRPC();
  const [lines, setLines] = useState<TLogLine[]>([]);
  const [mode, setMode] = useState<"stream" | "poll" | "done">(live ? "stream" : "done");
  const [hidden, setHidden] = useState<Set<string>>(new Set(["debug"]));
  const next = useRef(0);
  const buffer = useRef<TLogLine[]>([]);
  const box = useRef<HTMLDivElement>(null);
  // "follow": keep the newest line in view; scrolling up pauses it, scrolling back down (or the toggle) resumes
  const [follow, setFollow] = useState(live);
  const stick = useRef(live);
  stick.current = follow;

  const push = useCallback((incoming: TLogLine[]) => {
    for (const l of incoming) {
      if (l.line < next.current) continue;
      next.current = l.line + 1;
      buffer.current.push(l);
    }
  }, []);

  // flush buffered lines at most 5×/s: a chatty DUT must not re-render per line
  useEffect(() => {
    const t = setInterval(() => {
      if (!buffer.current.length) return;
      const add = buffer.current;
      buffer.current = [];
      setLines((prev) => prev.concat(add));
    }, 200);
    return () => clearInterval(t);
  }, []);

  useEffect(() => {
    if (mode !== "stream") return;
    const es = new EventSource(`/api/labs/${encodeURIComponent(lab)}/jobs/${id}/logs/stream?start=${next.current}`);
    es.addEventListener("line", (ev) => {
      try {
        push([JSON.parse((ev as MessageEvent<string>).data) as TLogLine]);
      } catch {
        // a malformed event is skipped; the next one carries its own line number
      }
    });
    es.addEventListener("end", () => {
      es.close();
      setMode("done");
      onEnd();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) setMode("poll");
    };
    return () => es.close();
  }, [mode, lab, id, push, onEnd]);

  const fetchAll = useQuery({ ...trpc.jobs.log.queryOptions({ lab, id, start: 0 }), enabled: !live, staleTime: Infinity });
  useEffect(() => {
    if (fetchAll.data) push(fetchAll.data.lines);
  }, [fetchAll.data, push]);

  const [pollStart, setPollStart] = useState(0);
  const poll = useQuery({ ...trpc.jobs.log.queryOptions({ lab, id, start: pollStart }), enabled: mode === "poll", refetchInterval: 3000 });
  useEffect(() => {
    if (!poll.data) return;
    push(poll.data.lines);
    if (poll.data.nextStart !== pollStart) setPollStart(poll.data.nextStart);
  }, [poll.data, pollStart, push]);
  useEffect(() => {
    if (!live && mode !== "done") setMode("done");
  }, [live, mode]);

  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines, follow, hidden]);

  // `#L<n>` in the URL (links from a build's failing tests): bring that line into view once it is loaded
  const [target] = useState(() => (typeof window !== "undefined" ? Number(/^#L(\d+)$/.exec(window.location.hash)?.[1] ?? NaN) : NaN));
  const jumped = useRef(false);
  useEffect(() => {
    if (jumped.current || Number.isNaN(target)) return;
    const el = document.getElementById(`L${target}`);
    if (el) {
      jumped.current = true;
      setFollow(false);
      // scrolls the log box and the page so the line is in view
      el.scrollIntoView({ block: "center" });
    }
  }, [lines, target]);

  const visible = lines.filter((l) => !hidden.has(l.lvl));
  const error = fetchAll.error ?? (mode === "poll" ? poll.error : null);
  return (
    <div>
      <div className="log-status">
        <span className="log-toolbar">
          {mode !== "done" && (
            <span className="running-pill" data-testid="log-running">
              <span className="live-dot" />
              running
            </span>
          )}
          {mode === "stream" && <span>live log · {lines.length} lines</span>}
          {mode === "poll" && <span>live stream unavailable, polling every 3 s · {lines.length} lines</span>}
          {mode === "done" && <span>{lines.length} lines</span>}
          {mode !== "done" && (
            <label className="follow" title="Keep the newest line in view">
              <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow
            </label>
          )}
          {mode === "done" && lines.length > 0 && (
            <button type="button" className="btn-mini" onClick={() => box.current && (box.current.scrollTop = box.current.scrollHeight)}>
              ↓ end
            </button>
          )}
        </span>
        <span className="chips">
          {LEVELS.map((lvl) => (
            <label key={lvl} className="chip" style={{ cursor: "pointer" }}>
              <input
                type="checkbox"
                checked={!hidden.has(lvl)}
                onChange={() => {
                  const h = new Set(hidden);
                  if (h.has(lvl)) h.delete(lvl);
                  else h.add(lvl);
                  setHidden(h);
                }}
              />{" "}
              {lvl}
            </label>
          ))}
        </span>
      </div>
      {error && (
        <ErrorBox
          title="Could not read the log from the lab"
          error={error}
          hint="The lab may be restarting or unreachable: the log resumes by itself when it answers; the labs page shows its status."
        />
      )}
      {!live && fetchAll.isPending && <Loading what="log" />}
      <div
        className="log"
        ref={box}
        data-testid="job-log"
        onScroll={(e) => {
          const el = e.currentTarget;
          const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          if (atEnd !== stick.current && mode !== "done") setFollow(atEnd);
        }}
      >
        {visible.length === 0 && (
          <div className="log-line">
            <span className="ln" /> <span>{mode === "stream" ? "waiting for output…" : "no log lines"}</span>
          </div>
        )}
        {visible.map((l) => (
          <div key={l.line} id={`L${l.line}`} className={`log-line lvl-${l.lvl}${l.line === target ? " log-target" : ""}`}>
            <span className="ln">{l.line}</span>
            <span>{logText(l.msg)}</span>
          </div>
        ))}
      </div>
    </div>
  );
}
