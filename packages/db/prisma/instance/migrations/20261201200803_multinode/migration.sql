-- AlterTable
ALTER TABLE "test_jobs" ADD COLUMN     "sub_id" TEXT,
ADD COLUMN     "target_group" TEXT;

-- CreateTable
CREATE TABLE "multinode_messages" (
    "id" SERIAL NOT NULL,
    "target_group" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "job_id" INTEGER NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "multinode_messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "multinode_messages_target_group_kind_message_id_job_id_key" ON "multinode_messages"("target_group", "kind", "message_id", "job_id");

-- CreateIndex
CREATE UNIQUE INDEX "test_jobs_sub_id_key" ON "test_jobs"("sub_id");

-- CreateIndex
CREATE INDEX "test_jobs_target_group_idx" ON "test_jobs"("target_group");
