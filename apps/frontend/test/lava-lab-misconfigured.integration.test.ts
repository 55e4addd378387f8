import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { createSubmissionRecord, findInstanceByName, findViewerByUsername, upsertInstances, type TViewer } from "@magma/db/frontend";
import { fakeLab, json, setupTestEnv } from "./helpers.ts";

/**
 * A LAVA lab on a frontend without MAGMA_FRONTEND_PUBLIC_URL: LAVA could not call back, so the
 * submission fails at once with a message naming the variable, and nothing reaches LAVA.
 */

let envCtl: Awaited<ReturnType<typeof setupTestEnv>>;
let lava: Awaited<ReturnType<typeof fakeLab>>;
const posts: string[] = [];
let sam: TViewer;

beforeAll(async () => {
  envCtl = await setupTestEnv();
  delete process.env["MAGMA_FRONTEND_PUBLIC_URL"];
  lava = await fakeLab((req, body, res) => {
    if (req.method === "POST") {
      posts.push(body);
      return json(res, 201, { message: "job(s) successfully submitted", job_ids: [1] });
    }
    return json(res, 404, { detail: "Not found." });
  });
  const { db } = await import("../src/server/db.ts");
  await upsertInstances(db(), [{ name: "lava-x", kind: "lava", url: lava.url, api_token: "t", callback_token: "cb-secret-123" }]);
  const { addUser } = await import("../src/server/services/accounts.ts");
  await addUser(db(), { username: "sam", superuser: true });
  sam = (await findViewerByUsername(db(), "sam"))!;
});

afterAll(async () => {
  await lava?.close();
  await envCtl?.cleanup();
});

describe("a LAVA lab without MAGMA_FRONTEND_PUBLIC_URL", () => {
  it("fails the target on the first attempt, naming the variable, and sends nothing to LAVA", async () => {
    const { db } = await import("../src/server/db.ts");
    const { submission } = await createSubmissionRecord(db(), {
      clientRequestId: "lava-x-1",
      definition: "device_type: qemu\njob_name: x\n",
      deviceType: "qemu",
      jobName: "x",
      userId: sam.userId,
      labs: [{ id: (await findInstanceByName(db(), "lava-x"))!.id, name: "lava-x" }],
    });
    const { deliverSubmissionTarget } = await import("../src/server/services/deliver-submission-target.ts");
    const out = await deliverSubmissionTarget({
      db: db(),
      targetId: submission.targets[0]!.id,
      lastAttempt: false,
      timeoutMs: 2000,
      log: pino({ level: "silent" }),
    });
    expect(out.kind).toBe("rejected");
    expect(out).toMatchObject({ error: expect.stringContaining("MAGMA_FRONTEND_PUBLIC_URL is not set") });
    expect(posts).toEqual([]);
    const { getSubmission } = await import("../src/server/services/get-submission.ts");
    const after = await getSubmission({ db: db(), submissionId: submission.id, viewer: sam });
    expect(after.targets[0]).toMatchObject({ status: "failed", error: expect.stringContaining("MAGMA_FRONTEND_PUBLIC_URL is not set") });
  });
});
