-- AlterTable
ALTER TABLE "federated_job" ADD COLUMN     "link_log_done" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "link_log_lines" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "job_cancel_request" (
    "id" SERIAL NOT NULL,
    "instance_id" INTEGER NOT NULL,
    "remote_job_id" INTEGER NOT NULL,
    "requested_by" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acked_at" TIMESTAMP(3),
    "result" TEXT,

    CONSTRAINT "job_cancel_request_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "job_cancel_request_instance_id_acked_at_idx" ON "job_cancel_request"("instance_id", "acked_at");

-- CreateIndex
CREATE UNIQUE INDEX "job_cancel_request_instance_id_remote_job_id_key" ON "job_cancel_request"("instance_id", "remote_job_id");

-- AddForeignKey
ALTER TABLE "job_cancel_request" ADD CONSTRAINT "job_cancel_request_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;
