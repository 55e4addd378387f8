-- AlterTable
ALTER TABLE "instance" ADD COLUMN     "reconcile_error" TEXT,
ADD COLUMN     "reconciled_at" TIMESTAMP(3),
ADD COLUMN     "reconciled_end_time" TEXT,
ADD COLUMN     "reconciled_job_id" INTEGER;
