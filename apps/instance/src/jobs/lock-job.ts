import type { InstanceTx, TestJob } from "@magma/db/instance";
import { AppError } from "../app-error.ts";

/**
 * Locks a job row for the rest of the transaction (`SELECT … FOR UPDATE`, as LAVA's
 * `select_for_update`) and returns it, so concurrent transitions and log uploads of one job serialise.
 * @throws AppError NOT_FOUND `Job N not found`
 */
export async function lockJob(tx: InstanceTx, jobId: number): Promise<TestJob> {
  await tx.$queryRaw`SELECT id FROM test_jobs WHERE id = ${jobId} FOR UPDATE`;
  const job = await tx.testJob.findUnique({ where: { id: jobId } });
  if (!job) throw new AppError("NOT_FOUND", `Job ${jobId} not found`);
  return job;
}
