/**
 * What the streaming services (logs/job-log.ts, events/event-stream.ts) write to: a Server-Sent
 * Events sink. The service decides WHAT is sent and when; the HTTP layer (http/sse.ts) owns the
 * response (headers, hijack, close) and turns these calls into `text/event-stream` bytes.
 */

/** Comment line sent on an idle stream so proxies keep it open, ms. */
export const SSE_KEEPALIVE_MS = 15_000;

/**
 * One SSE event: `id: <id>` (what `Last-Event-ID` resumes from), `event: <event>`, `data: <data>`
 * (one line), written in the order the object lists its fields.
 */
export interface SseEvent {
  id?: number;
  event: string;
  data: string;
}

export interface SseSink {
  /** sends the events in order, in one write (a batch of log lines is one network write) */
  send(events: readonly SseEvent[]): void;
  /** sends `: <text>` (a comment, ignored by clients: keepalive) */
  comment(text: string): void;
}

/**
 * Waits until `wake` is called (returns "woken"), `signal` aborts ("woken" too: the caller checks the
 * signal) or `ms` pass ("idle"). `arm(wake)` receives the wake function; it is disarmed on return.
 */
export function waitForWake(ms: number, signal: AbortSignal, arm: (wake: (() => void) | null) => void): Promise<"woken" | "idle"> {
  return new Promise((resolve) => {
    const t = setTimeout(() => finish("idle"), ms);
    const onAbort = () => finish("woken");
    signal.addEventListener("abort", onAbort, { once: true });
    function finish(x: "woken" | "idle") {
      clearTimeout(t);
      signal.removeEventListener("abort", onAbort);
      arm(null);
      resolve(x);
    }
    arm(() => finish("woken"));
  });
}
