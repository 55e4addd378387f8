import type { TInstanceRecord } from "@magma/db/frontend";
import type { LabClient } from "./lab-client.ts";
import { magmaLabClient } from "./instance-client.ts";
import { lavaLabClient } from "./lava-client.ts";

/** The client of a lab's own API, by the lab's kind (`lava` → LAVA REST v0.2, else Magma). */
export function labClientFor(lab: TInstanceRecord): LabClient {
  return lab.kind === "lava" ? lavaLabClient(lab) : magmaLabClient(lab);
}
