-- AlterTable
ALTER TABLE "instance" ADD COLUMN     "callback_token_name" TEXT;

-- CreateIndex
CREATE INDEX "submission_target_instance_id_remote_job_id_idx" ON "submission_target"("instance_id", "remote_job_id");
