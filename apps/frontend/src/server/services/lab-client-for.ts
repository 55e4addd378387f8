import type { LabClient, TReachableLab } from "./lab-client.ts";
import { magmaLabClient } from "./instance-client.ts";
import { lavaLabClient } from "./lava-client.ts";

/** The client of a lab's own API, by the lab's kind (`lava` → LAVA REST v0.2, else Magma); only inbound labs (with a URL) have one. */
export function labClientFor(lab: TReachableLab): LabClient {
  return lab.kind === "lava" ? lavaLabClient(lab) : magmaLabClient(lab);
}
