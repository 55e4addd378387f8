import { timeoutToMs, type TJobTimeouts, type TTimeout } from "@magma/protocol";
import { ActionTimeoutError, type LavaError } from "../errors.ts";

/** LAVA's default action timeout when the job names none, in ms (lava_common/timeout.py: 30 s). */
export const DEFAULT_ACTION_TIMEOUT_MS = 30_000;

/**
 * Duration of an action in ms by LAVA's precedence: the action block's own `timeout:` (top-level
 * actions only) > `timeouts.actions.<name>` > the inherited value (a sub-action inherits its
 * parent's duration) > `timeouts.action` > {@link DEFAULT_ACTION_TIMEOUT_MS}.
 * The caller still caps the resulting deadline by the parent's (and so the job's) deadline.
 */
export function resolveTimeoutMs(options: {
  name: string;
  own?: TTimeout | undefined;
  inheritedMs?: number | undefined;
  timeouts: TJobTimeouts;
  fixedDefaultMs?: number | undefined;
}): number {
  const { name, own, inheritedMs, timeouts, fixedDefaultMs } = options;
  if (own) return timeoutToMs(own);
  const named = timeouts.actions?.[name];
  if (named) return timeoutToMs(named);
  if (fixedDefaultMs !== undefined) return fixedDefaultMs;
  if (inheritedMs !== undefined) return inheritedMs;
  if (timeouts.action) return timeoutToMs(timeouts.action);
  return DEFAULT_ACTION_TIMEOUT_MS;
}

/** Formats ms as LAVA's `HH:MM:SS` (rounded down to whole seconds; days fold into hours). */
export function formatHms(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** Seconds as LAVA writes action durations in results: a string with two decimals ("0.12"). */
export function formatSeconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

/**
 * An AbortSignal that aborts at the absolute time `deadlineMs` (epoch ms) with `makeError()` as its
 * reason, or when `parent` aborts (with the parent's reason). Replaces LAVA's SIGALRM timeouts.
 * Call `dispose()` once done so the timer does not outlive the action.
 */
export function deadlineSignal(
  deadlineMs: number,
  parent: AbortSignal,
  makeError: () => LavaError,
): { signal: AbortSignal; dispose: () => void } {
  const ctrl = new AbortController();
  if (parent.aborted) {
    ctrl.abort(parent.reason);
    return { signal: ctrl.signal, dispose: () => {} };
  }
  const onParent = () => ctrl.abort(parent.reason);
  parent.addEventListener("abort", onParent, { once: true });
  const timer = setTimeout(() => ctrl.abort(makeError()), Math.max(0, deadlineMs - Date.now()));
  timer.unref?.();
  return {
    signal: ctrl.signal,
    dispose: () => {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParent);
    },
  };
}

/** The standard timeout error: "<name> timed out after N seconds" (LAVA's wording). */
export function timeoutError(name: string, timeoutMs: number): ActionTimeoutError {
  return new ActionTimeoutError(`${name} timed out after ${Math.round(timeoutMs / 1000)} seconds`);
}

/**
 * Resolves with `promise`, or rejects with `signal.reason` as soon as `signal` aborts, so an
 * action that ignores its signal cannot hang the pipeline past its deadline.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // the work was already started (its promise is our argument) and will settle on its own,
    // usually rejecting with this same reason: observe it, or Node ends the process on an
    // unhandled rejection (a job canceled between two actions killed the worker daemon)
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** Rejects with `signal.reason` when it aborts; never resolves otherwise. Used to wait on conditions. */
export function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
