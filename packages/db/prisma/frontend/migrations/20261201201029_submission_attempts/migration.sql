-- AlterTable
ALTER TABLE "submission" ADD COLUMN     "any_lab" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "retry_infrastructure" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "submission_attempt" (
    "id" SERIAL NOT NULL,
    "target_id" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "instance_id" INTEGER NOT NULL,
    "lab" TEXT NOT NULL,
    "remote_job_id" INTEGER,
    "status" TEXT NOT NULL DEFAULT 'active',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "submission_attempt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "submission_attempt_instance_id_remote_job_id_idx" ON "submission_attempt"("instance_id", "remote_job_id");

-- CreateIndex
CREATE UNIQUE INDEX "submission_attempt_target_id_number_key" ON "submission_attempt"("target_id", "number");

-- AddForeignKey
ALTER TABLE "submission_attempt" ADD CONSTRAINT "submission_attempt_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "submission_target"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill: every existing target gets its first (and only) attempt
INSERT INTO "submission_attempt" ("target_id", "number", "instance_id", "lab", "remote_job_id", "status", "created_at")
SELECT t."id", 1, t."instance_id", i."name", t."remote_job_id", 'active', t."created_at"
FROM "submission_target" t JOIN "instance" i ON i."id" = t."instance_id";
