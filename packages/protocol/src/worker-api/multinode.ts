import { z } from "zod";

/**
 * MultiNode coordination between a worker and its instance, Magma's stand-in for LAVA's
 * lava-coordinator: the worker relays each `<LAVA_MULTI_NODE> <LAVA_SEND|WAIT|WAIT_ALL|SYNC …>`
 * signal of a sub-job's test shell as one call, and writes the answer back to the DUT console.
 *
 *   POST /scheduler/internal/v1/jobs/<id>/multinode/           LAVA-Token: <job token>
 *        TMultinodeRequest → TMultinodeResponse. Long-poll: the instance answers at once with
 *        `ack` (done, with `message` for waits) or `nack` (refused), else after at most `wait_ms`
 *        (≤ {@link MAX_MULTINODE_WAIT_MS}) with `wait`; the worker calls again until the group's
 *        `timeout` runs out (then the job ends Incomplete, error_type MultinodeTimeout, as LAVA's
 *        MultinodeProtocolTimeoutError).
 */
export const MULTINODE_REQUESTS = ["lava_send", "lava_wait", "lava_wait_all", "lava_sync"] as const;
/** Longest long-poll of one coordination call, in ms. */
export const MAX_MULTINODE_WAIT_MS = 20_000;
/** LAVA's default MultiNode poll timeout when the protocol block names none, in seconds (LAVA_MULTINODE_SYSTEM_TIMEOUT). */
export const DEFAULT_MULTINODE_TIMEOUT_S = 90;

const messageId = z.string().regex(/^[^\s<>=]{1,200}$/, "messageID: 1–200 characters, no whitespace, '<', '>' or '='");
const messageKey = z.string().regex(/^[^\s<>=:]{1,200}$/, "message keys: no whitespace, '<', '>', '=' or ':'");
const messageValue = z.string().regex(/^[^\s<>]{0,1000}$/, "message values: at most 1000 characters, no whitespace, '<' or '>'");

/** One coordination call: LAVA's coordinator request (`request`, `messageID`, `message`, `role` for lava_wait_all). */
export const ZMultinodeRequest = z.strictObject({
  request: z.enum(MULTINODE_REQUESTS),
  messageID: messageId,
  /** lava_send: the key=value pairs sent with the message */
  message: z.record(messageKey, messageValue).optional(),
  /** lava_wait_all: only wait for the sub-jobs of this role */
  role: z.string().min(1).max(64).optional(),
  wait_ms: z.number().int().min(0).max(MAX_MULTINODE_WAIT_MS).optional(),
});
export type TMultinodeRequest = z.infer<typeof ZMultinodeRequest>;

/**
 * The coordinator's answer: `ack` (done), `wait` (not yet: call again), `nack` (refused, e.g. an
 * unknown role). Waits carry `message`: sender job id → its key=value pairs, as LAVA's reply.
 */
export const ZMultinodeResponse = z.object({
  response: z.enum(["ack", "wait", "nack"]),
  message: z.record(z.string(), z.record(z.string(), z.string())).optional(),
});
export type TMultinodeResponse = z.infer<typeof ZMultinodeResponse>;

/** What the coordinator knows of one group for one messageID. */
export interface TMultinodeGroupState {
  /** every sub-job of the group: job id (LAVA's client name) → role */
  members: Readonly<Record<string, string>>;
  /** sub-jobs that sent this messageID → what they sent */
  senders: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** sub-jobs that called lava-sync with this messageID */
  syncers: readonly string[];
}

/**
 * Answers a coordination request from the group's state (after the caller recorded the request's
 * own send or sync), with lava-coordinator's semantics:
 * - `lava_send` → ack (the message is broadcast to the whole group);
 * - `lava_wait` → ack with every sender's message once any sub-job sent the messageID, else wait;
 * - `lava_wait_all [role]` → ack with the messages once every sub-job (of `role`) sent it, else
 *   wait; an unknown role → nack;
 * - `lava_sync` → ack once every sub-job of the group synced on the messageID, else wait.
 */
export function evaluateMultinode(req: Pick<TMultinodeRequest, "request" | "role">, state: TMultinodeGroupState): TMultinodeResponse {
  const message = () => structuredClone(state.senders) as Record<string, Record<string, string>>;
  switch (req.request) {
    case "lava_send":
      return { response: "ack" };
    case "lava_wait":
      return Object.keys(state.senders).length ? { response: "ack", message: message() } : { response: "wait" };
    case "lava_wait_all": {
      const expected = Object.entries(state.members)
        .filter(([, role]) => req.role === undefined || role === req.role)
        .map(([id]) => id);
      if (!expected.length) return { response: "nack" };
      return expected.every((id) => id in state.senders) ? { response: "ack", message: message() } : { response: "wait" };
    }
    case "lava_sync": {
      const synced = new Set(state.syncers);
      return Object.keys(state.members).every((id) => synced.has(id)) ? { response: "ack" } : { response: "wait" };
    }
  }
}
